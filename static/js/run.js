// Live run page: follows /runs/{id}/events and updates the step list.
// Host output is inserted with textContent only, never as markup.
(function () {
	"use strict";
	var root = document.getElementById("run");
	if (!root || !root.hasAttribute("data-active") || !window.EventSource) {
		return;
	}
	var url = root.getAttribute("data-events-url") + "?after=" + root.getAttribute("data-last-seq");
	var stateClass = {
		ok: "tag ok", succeeded: "tag ok", failed: "tag bad", refused: "tag bad", interrupted: "tag bad",
		running: "tag info", queued: "tag info"
	};

	function step(name) {
		var li = document.getElementById("step-" + name);
		if (!li) {
			li = document.createElement("li");
			li.className = "step";
			li.id = "step-" + name;
			li.setAttribute("data-step", name);
			li.setAttribute("data-testid", "step");
			li.innerHTML = '<div class="step-head"><span class="step-name"></span> ' +
				'<span class="step-state" data-testid="step-state"></span> <span class="step-duration muted"></span></div>' +
				'<p class="step-detail"></p><pre class="output"></pre>';
			li.querySelector(".step-name").textContent = name;
			root.querySelector("ol.steps").appendChild(li);
		}
		return li;
	}

	function setState(li, state) {
		li.setAttribute("data-state", state);
		var tag = li.querySelector(".step-state");
		tag.textContent = state;
		tag.className = "step-state " + (stateClass[state] || "tag warn");
	}

	function duration(ms) {
		if (!ms) { return ""; }
		if (ms < 1000) { return ms + " ms"; }
		return (ms / 1000).toFixed(1) + " s";
	}

	var source = new EventSource(url);
	source.addEventListener("step_started", function (e) {
		setState(step(JSON.parse(e.data).step), "running");
		var state = document.getElementById("run-state");
		if (state.textContent === "queued") {
			state.textContent = "running";
			state.className = stateClass.running;
		}
	});
	source.addEventListener("output", function (e) {
		var ev = JSON.parse(e.data);
		var pre = step(ev.step).querySelector("pre.output");
		var line = document.createElement("span");
		line.className = "line " + ev.stream;
		line.setAttribute("data-seq", ev.seq);
		line.textContent = ev.text;
		pre.appendChild(line);
	});
	source.addEventListener("step_finished", function (e) {
		var ev = JSON.parse(e.data);
		var li = step(ev.step);
		setState(li, ev.status);
		li.querySelector(".step-duration").textContent = duration(ev.duration_ms);
		li.querySelector(".step-detail").textContent = ev.text || "";
	});
	source.addEventListener("done", function (e) {
		var ev = JSON.parse(e.data);
		source.close();
		var state = document.getElementById("run-state");
		state.textContent = ev.status;
		state.className = stateClass[ev.status] || "tag warn";
		document.getElementById("run-summary").textContent = ev.text || ev.detail || "";
		root.removeAttribute("data-active");
		root.setAttribute("data-finished", "true");
		var cancel = document.getElementById("cancel-form");
		if (cancel) { cancel.remove(); }
		var note = document.getElementById("live-note");
		if (note) { note.remove(); }
		// Steps the run never reached did not run.
		var steps = root.querySelectorAll('li.step[data-state="pending"]');
		for (var i = 0; i < steps.length; i++) { setState(steps[i], "not run"); }
		banner();
	});

	// banner takes the finished run's banner from the page as the server
	// renders it now, so its wording is written in one place (the views).
	// The page is our own and escaped by its templates; parsing it runs no
	// script.
	function banner() {
		if (!window.fetch || !window.DOMParser) { return; }
		fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
			.then(function (r) { return r.ok ? r.text() : ""; })
			.then(function (html) {
				if (!html || document.querySelector('[data-testid="run-banner"]')) { return; }
				var page = new DOMParser().parseFromString(html, "text/html");
				// The facts too, so "Took" and the outcome appear without a reload.
				var facts = page.querySelector("#run dl.facts"), mine = root.querySelector("dl.facts");
				if (facts && mine) { mine.replaceWith(document.importNode(facts, true)); }
				var b = page.querySelector('[data-testid="run-banner"]');
				if (b) {
					root.insertBefore(document.importNode(b, true), root.querySelector("dl.facts"));
					// A tab in the background says in its title that the run ended.
					var title = b.querySelector('[data-testid="run-banner-title"]');
					if (title) { document.title = title.textContent + " · " + document.title; }
					document.dispatchEvent(new CustomEvent("wsusfix:ended", { detail: { title: document.title } }));
				}
			})
			.catch(function () { /* the banner is a convenience; a reload shows it */ });
	}
})();
