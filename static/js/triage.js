// Triage: a selection that survives paging and filtering within this tab
// (sessionStorage), a select-all for the page, and the error chips folded
// on narrow screens. Without JavaScript the page works as a plain form:
// only the hosts ticked on this page are sent.
(function () {
	"use strict";
	var KEY = "wsusfix.selected";
	var form = document.getElementById("bulk");
	var narrow = window.matchMedia && window.matchMedia("(max-width: 720px)").matches;
	var box = document.querySelector("[data-fold-narrow]");
	if (box && narrow) { box.open = false; }
	if (!form || !window.sessionStorage) { return; }

	function load() {
		try { return JSON.parse(sessionStorage.getItem(KEY) || "[]"); } catch (e) { return []; }
	}
	function save(names) { sessionStorage.setItem(KEY, JSON.stringify(names)); }
	var selected = load();
	var boxes = form.querySelectorAll('input[type="checkbox"][name="host"]');
	var all = form.querySelector("[data-select-all]");
	var count = form.querySelector("[data-selected-count]");
	var clear = form.querySelector("[data-clear-selection]");

	function render() {
		var onPage = 0;
		for (var i = 0; i < boxes.length; i++) {
			boxes[i].checked = selected.indexOf(boxes[i].value) >= 0;
			if (boxes[i].checked) { onPage++; }
		}
		if (all) {
			all.hidden = false;
			all.checked = boxes.length > 0 && onPage === boxes.length;
			all.indeterminate = onPage > 0 && onPage < boxes.length;
		}
		var elsewhere = selected.length - onPage;
		if (count) {
			count.textContent = selected.length === 0 ? "" :
				selected.length + (selected.length === 1 ? " host selected" : " hosts selected") +
				(elsewhere > 0 ? " (" + elsewhere + " on other pages)" : "");
		}
		if (clear) { clear.hidden = selected.length === 0; }
	}
	function toggle(name, on) {
		var i = selected.indexOf(name);
		if (on && i < 0) { selected.push(name); }
		if (!on && i >= 0) { selected.splice(i, 1); }
	}
	for (var i = 0; i < boxes.length; i++) {
		boxes[i].addEventListener("change", function (e) { toggle(e.target.value, e.target.checked); save(selected); render(); });
	}
	if (all) {
		all.addEventListener("change", function () {
			for (var i = 0; i < boxes.length; i++) { toggle(boxes[i].value, all.checked); }
			save(selected); render();
		});
	}
	if (clear) {
		clear.addEventListener("click", function () { selected = []; save(selected); render(); });
	}
	// Hosts chosen on other pages go with the form as hidden fields; the
	// selection is then spent.
	form.addEventListener("submit", function () {
		var shown = {};
		for (var i = 0; i < boxes.length; i++) { shown[boxes[i].value] = true; }
		for (var j = 0; j < selected.length; j++) {
			if (shown[selected[j]]) { continue; }
			var h = document.createElement("input");
			h.type = "hidden"; h.name = "host"; h.value = selected[j];
			form.appendChild(h);
		}
		sessionStorage.removeItem(KEY);
	});
	render();
})();
