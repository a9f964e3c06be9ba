// Live sections (a batch, a sync): while the element marked data-live is
// active, fetch the page every data-live milliseconds and swap in the
// fresh section by its id, so counts and states stay current without
// reloading (which would lose the scroll position). The markup is our own
// server's page, parsed as a document, never run as script.
(function () {
	"use strict";
	var first = document.querySelector("[data-live]");
	if (!first || !first.id) {
		return;
	}
	var id = first.id;
	var period = parseInt(first.getAttribute("data-live"), 10) || 2000;
	function refresh() {
		var root = document.getElementById(id);
		if (!root || !root.hasAttribute("data-active")) {
			return;
		}
		window.fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
			.then(function (res) {
				if (!res.ok) { throw new Error("status " + res.status); }
				return res.text();
			})
			.then(function (html) {
				var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(id);
				if (fresh) {
					root.replaceWith(document.importNode(fresh, true));
					document.dispatchEvent(new CustomEvent("wsusfix:swapped"));
					if (!fresh.hasAttribute("data-active")) {
						// It ended: the tab's title says so, and a watcher is told.
						document.title = "Ended · " + document.title;
						document.dispatchEvent(new CustomEvent("wsusfix:ended", { detail: { title: document.title } }));
					}
				}
				window.setTimeout(refresh, period);
			})
			.catch(function () {
				window.setTimeout(refresh, 5000); // server restarting: keep trying, gently
			});
	}
	window.setTimeout(refresh, period);
})();
