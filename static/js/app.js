// Scripts for wsusfix pages. No inline scripts anywhere, so a strict CSP holds.

// Times: the server writes them in UTC; show each in the browser's own
// time zone, keeping the UTC text as the title for a hover.
(function () {
	"use strict";
	if (!window.Intl || !Intl.DateTimeFormat) { return; }
	var format = new Intl.DateTimeFormat(undefined, {
		year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", timeZoneName: "short"
	});
	function localise(root) {
		var times = root.querySelectorAll('time[data-local="true"]');
		for (var i = 0; i < times.length; i++) {
			var d = new Date(times[i].getAttribute("datetime"));
			if (!isNaN(d.getTime())) { times[i].textContent = format.format(d); }
		}
	}
	// A live section swapped in by live.js brings its times in UTC again.
	document.addEventListener("wsusfix:swapped", function () { localise(document); });
	if (document.readyState === "loading") {
		document.addEventListener("DOMContentLoaded", function () { localise(document); });
	} else {
		localise(document);
	}
})();

// Notifications: a "Notify me when it ends" button (hidden until this
// browser can notify) asks for permission; when a watched run or batch
// ends while its tab is in the background, the browser says so.
(function () {
	"use strict";
	if (!window.Notification || Notification.permission === "denied") { return; }
	function buttons() { return document.querySelectorAll("[data-notify]"); }
	function show() {
		var bs = buttons();
		for (var i = 0; i < bs.length; i++) {
			bs[i].hidden = Notification.permission === "granted";
			bs[i].onclick = function () { Notification.requestPermission().then(show); };
		}
	}
	document.addEventListener("DOMContentLoaded", show);
	document.addEventListener("wsusfix:swapped", show);
	document.addEventListener("wsusfix:ended", function (e) {
		if (Notification.permission === "granted" && document.hidden) {
			new Notification("wsusfix", { body: (e.detail && e.detail.title) || document.title });
		}
	});
})();
