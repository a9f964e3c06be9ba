// Live sections (a batch, a sync, a runs list): while the element marked
// data-live is active, fetch the page and swap in the fresh section by
// its id, so counts and states stay current without reloading (which
// would lose the scroll position). With data-live-events the server says
// when over SSE ("changed", then "done"); otherwise, or when the stream
// fails, the page is fetched every data-live milliseconds. The markup is
// our own server's page, parsed as a document, never run as script.
(function () {
	"use strict";
	var first = document.querySelector("[data-live]");
	if (!first || !first.id) {
		return;
	}
	var id = first.id;
	var period = parseInt(first.getAttribute("data-live"), 10) || 2000;
	var eventsURL = first.getAttribute("data-live-events");

	// swap fetches the page and replaces the section; it calls then(true)
	// while the section is still active.
	function swap(then) {
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
				if (then) { then(fresh && fresh.hasAttribute("data-active")); }
			})
			.catch(function () {
				window.setTimeout(poll, 5000); // server restarting: keep trying, gently
			});
	}
	function poll() {
		swap(function (active) { if (active) { window.setTimeout(poll, period); } });
	}
	if (!first.hasAttribute("data-active")) {
		return;
	}
	if (eventsURL && window.EventSource) {
		var source = new EventSource(eventsURL);
		var busy = false;
		var update = function () {
			if (busy) { return; }
			busy = true;
			swap(function () { busy = false; });
		};
		source.addEventListener("changed", update);
		source.addEventListener("done", function () { source.close(); busy = false; update(); });
		source.onerror = function () {
			// The stream is gone for good (not a reconnect): fall back to polling.
			if (source.readyState === EventSource.CLOSED) { window.setTimeout(poll, period); }
		};
		return;
	}
	window.setTimeout(poll, period);
})();
