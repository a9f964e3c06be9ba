// Batch page: while runs are going, reload every few seconds so counts and
// states stay current. No markup is built here.
(function () {
	"use strict";
	var root = document.getElementById("batch");
	if (!root || !root.hasAttribute("data-active")) {
		return;
	}
	window.setTimeout(function () { window.location.reload(); }, 3000);
})();
