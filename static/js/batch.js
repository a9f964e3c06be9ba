// Batch page: while runs are going, fetch the page every few seconds and
// swap in the fresh batch section, so counts and states stay current
// without reloading (which would lose the scroll position). The markup is
// our own server's page, parsed as a document, never run as script.
(function () {
	"use strict";
	function refresh() {
		var root = document.getElementById("batch");
		if (!root || !root.hasAttribute("data-active")) {
			return;
		}
		window.fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
			.then(function (res) {
				if (!res.ok) { throw new Error("status " + res.status); }
				return res.text();
			})
			.then(function (html) {
				var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("batch");
				if (fresh) {
					root.replaceWith(document.importNode(fresh, true));
				}
				window.setTimeout(refresh, 2000);
			})
			.catch(function () {
				window.setTimeout(refresh, 5000); // server restarting: keep trying, gently
			});
	}
	window.setTimeout(refresh, 2000);
})();
