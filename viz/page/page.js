// Steps through a backward pass computed in Python (tinygrad_ng.viz.backprop_html).
// Everything shown comes from the JSON in #bp-data; this script only switches it on and off.
(function () {
  "use strict";
  const D = JSON.parse(document.getElementById("bp-data").textContent);
  const $ = (id) => document.getElementById(id);
  const graph = $("bp-graph"), caption = $("bp-caption"), tip = $("bp-tip");
  const slider = $("bp-slider"), playButton = $("bp-play"), modulesButton = $("bp-modules");
  const N = D.steps.length;
  const XLINK = "http://www.w3.org/1999/xlink";
  let step = 0, layout = null, timer = null, pinned = null;
  slider.max = String(N);

  // ------------------------------------------------------------------ layouts
  function showLayout(name) {
    layout = name;
    graph.innerHTML = D.layouts[name].svg;
    const svg = graph.querySelector("svg");
    svg.removeAttribute("width");
    svg.removeAttribute("height");
    const place = D.layouts[name].place;
    const members = {};  // DOT node -> the tensors drawn there
    for (const key in place) (members[place[key]] = members[place[key]] || []).push(key);
    svg.querySelectorAll("g.node").forEach((g) => {
      const id = g.querySelector("title").textContent;
      g.dataset.dot = id;
      g.dataset.members = (members[id] || []).join(" ");
      const own = D.nodes[id] || D.nodes[id.split("_")[0]];  // (a constant drawn per use)
      if (own) g.dataset.key = D.nodes[id] ? id : id.split("_")[0];
      g.dataset.label = own ? own.label
        : Array.from(g.querySelectorAll("text"), (t) => t.textContent).join(" ");
      if (/^m\d+$/.test(id)) g.dataset.box = boxName(g);  // a collapsed module
      markGradText(g);
      g.addEventListener("mouseenter", (e) => { if (!pinned) showTip(g, e); });
      g.addEventListener("mousemove", (e) => { if (!pinned) moveTip(e); });
      g.addEventListener("mouseleave", () => { if (!pinned) tip.hidden = true; });
      g.addEventListener("click", (e) => clickNode(g, e));
    });
    svg.querySelectorAll("g.edge").forEach((g) => {
      const [tail, head] = g.querySelector("title").textContent.split("->");
      g.dataset.tail = tail;
      g.dataset.head = head;
      markGradText(g);
    });
    // Graphviz's own tooltips (<title>, xlink:title) would cover ours
    svg.querySelectorAll("title").forEach((t) => t.remove());
    svg.querySelectorAll("a").forEach((a) => {
      a.removeAttribute("xlink:title");
      a.removeAttributeNS(XLINK, "title");
    });
    const hasModules = "collapsed" in D.layouts;
    modulesButton.hidden = !hasModules;
    modulesButton.textContent = name === "expanded" ? "Collapse modules" : "Expand all modules";
    pinned = null;
    tip.hidden = true;
    tip.classList.remove("bp-pinned");
    render();
  }

  function boxName(g) {  // a module box's scope, from the tooltip Graphviz gave it
    const a = g.querySelector("a");
    return (a && (a.getAttributeNS(XLINK, "title") || a.getAttribute("xlink:title"))) || "module";
  }

  function markGradText(g) {  // the gradient rows of a label: drawn in the gradient colour
    g.querySelectorAll("text").forEach((t) => {
      if ((t.getAttribute("fill") || "").toLowerCase() === D.grad_color) {
        t.classList.add("bp-gradtext");
        t.dataset.full = t.textContent;
      }
    });
  }

  // ------------------------------------------------------------------ one step
  function render() {
    const done = new Set(D.steps.slice(0, step).map((s) => s.node));
    const current = step > 0 ? D.steps[step - 1] : null;
    const place = D.layouts[layout].place;
    const here = current ? place[current.node] : null;
    graph.querySelectorAll("g.node").forEach((g) => {
      const keys = g.dataset.members ? g.dataset.members.split(" ") : [];
      g.classList.toggle("bp-current", g.dataset.dot === here);
      g.classList.toggle("bp-done", keys.some((k) => done.has(k)));
      const own = D.nodes[g.dataset.dot];
      let first = true;
      g.querySelectorAll("text.bp-gradtext").forEach((t) => {
        const shown = own && done.has(g.dataset.dot);
        if (shown) { t.textContent = t.dataset.full; t.classList.remove("bp-hidden"); }
        else if (first && own) { t.textContent = own.pending; t.classList.remove("bp-hidden"); }
        else t.classList.add("bp-hidden");
        first = false;
      });
    });
    graph.querySelectorAll("g.edge").forEach((g) => {
      const head = g.dataset.head;
      // an edge's gradient is sent when its head (the consumer) has its own gradient
      const sent = D.nodes[head] ? done.has(head) : false;
      g.querySelectorAll("text.bp-gradtext").forEach((t) => t.classList.toggle("bp-hidden", !sent));
      g.classList.toggle("bp-reading", here !== null && g.dataset.tail === here &&
                         g.dataset.head !== here);
    });
    caption.innerHTML = "";
    caption.dataset.node = current ? current.label : "";
    const lines = current ? [`step ${step} of ${N}: gradient of ${current.label}`]
      .concat(current.caption) : [D.intro];
    lines.forEach((text, i) => {
      const div = document.createElement("div");
      div.textContent = text;
      div.className = i === 0 ? "bp-line-first" : (text.startsWith("    ") ? "bp-where" : "bp-line");
      caption.appendChild(div);
    });
    slider.value = String(step);
    $("bp-counter").textContent = `step ${step} / ${N}`;
    $("bp-back").disabled = step === 0;
    $("bp-step").disabled = step === N;
    if (pinned) showTip(pinned, null);
  }

  function go(k) {
    step = Math.max(0, Math.min(N, k));
    render();
  }

  function play() {
    if (timer) { stop(); return; }
    if (step === N) go(0);
    playButton.textContent = "Pause";
    timer = setInterval(() => { go(step + 1); if (step >= N) stop(); }, D.play_ms);
  }

  function stop() {
    clearInterval(timer);
    timer = null;
    playButton.textContent = "Play";
  }

  // ------------------------------------------------------------------ tooltip
  function section(parent, label, info, cls) {
    const head = document.createElement("div");
    head.className = "bp-label " + (cls || "");
    head.textContent = label;
    parent.appendChild(head);
    const pre = document.createElement("pre");
    pre.className = cls || "";
    pre.textContent = typeof info === "string" ? info : info.text;
    parent.appendChild(pre);
    if (info && info.heatmap) parent.appendChild(heatmap(info.heatmap));
  }

  function heatmap(h) {  // blue (negative) - white - red (positive), scaled to the largest
    const canvas = document.createElement("canvas");
    const cell = Math.max(3, Math.floor(168 / Math.max(h.rows, h.cols)));
    canvas.width = h.cols * cell;
    canvas.height = h.rows * cell;
    canvas.title = h.sampled ? "heatmap (rows/columns sampled evenly)" : "heatmap";
    const ctx = canvas.getContext("2d");
    const scale = Math.max(1e-300, ...h.values.map((v) => (v === null ? 0 : Math.abs(v))));
    h.values.forEach((v, i) => {
      const r = Math.floor(i / h.cols), c = i % h.cols;
      if (v === null) ctx.fillStyle = "#facc15";
      else {
        const s = Math.round(255 * (1 - Math.min(1, Math.abs(v) / scale)));
        ctx.fillStyle = v >= 0 ? `rgb(255,${s},${s})` : `rgb(${s},${s},255)`;
      }
      ctx.fillRect(c * cell, r * cell, cell, cell);
    });
    return canvas;
  }

  function showTip(g, e) {
    tip.innerHTML = "";
    const own = D.nodes[g.dataset.key];
    const h = document.createElement("h2");
    tip.appendChild(h);
    if (own) {
      h.textContent = own.title;
      const meta = document.createElement("div");
      meta.className = "bp-meta";
      meta.textContent = `${own.op ? "op " + own.op : own.kind} · ${own.value.shape} ` +
        `${own.dtype}` + (own.scope ? ` · in ${own.scope}` : "");
      tip.appendChild(meta);
      section(tip, "value", own.value);
      const done = D.steps.slice(0, step).some((s) => s.node === g.dataset.key);
      const name = `∂${D.root}/∂${own.label}`;
      if (own.grad && done) section(tip, `gradient ${name}`, own.grad, "bp-grad");
      else if (D.steps.some((s) => s.node === g.dataset.key))
        section(tip, `gradient ${name}`, "not computed yet: keep stepping", "bp-grad");
    } else if (g.dataset.box) {
      const keys = g.dataset.members.split(" ");
      h.textContent = `module ${g.dataset.box} (collapsed)`;
      section(tip, `${keys.length} nodes`, keys.map((k) => D.nodes[k].title).join("\n"));
      section(tip, "", "click to expand");
    } else {
      h.textContent = g.dataset.label;  // e.g. the marker of the nodes max_nodes left out
    }
    tip.hidden = false;
    if (e) moveTip(e);
  }

  function moveTip(e) {
    const x = Math.min(e.clientX + 14, window.innerWidth - tip.offsetWidth - 6);
    const y = Math.min(e.clientY + 14, window.innerHeight - tip.offsetHeight - 6);
    tip.style.left = Math.max(4, x) + "px";
    tip.style.top = Math.max(4, y) + "px";
  }

  function clickNode(g, e) {
    if (g.dataset.box) {  // a collapsed module: show the layout with it expanded
      const key = g.dataset.members.split(" ")[0];
      const scope = D.nodes[key] && D.nodes[key].scope;
      const name = "module:" + scope;
      showLayout(name in D.layouts ? name : "expanded");
      return;
    }
    if (pinned === g) { pinned = null; tip.classList.remove("bp-pinned"); tip.hidden = true; return; }
    pinned = g;
    tip.classList.add("bp-pinned");
    showTip(g, e);
  }

  // ------------------------------------------------------------------ controls
  $("bp-step").addEventListener("click", () => { stop(); go(step + 1); });
  $("bp-back").addEventListener("click", () => { stop(); go(step - 1); });
  playButton.addEventListener("click", play);
  slider.addEventListener("input", () => { stop(); go(Number(slider.value)); });
  modulesButton.addEventListener("click", () =>
    showLayout(layout === "expanded" ? "collapsed" : "expanded"));
  document.addEventListener("click", (e) => {  // a click beside the nodes unpins
    if (pinned && !e.target.closest("g.node") && !tip.contains(e.target)) {
      pinned = null;
      tip.classList.remove("bp-pinned");
      tip.hidden = true;
    }
  });
  document.addEventListener("keydown", (e) => {
    if (e.target === slider) return;  // the slider moves itself with the arrow keys
    if (e.key === "ArrowRight") { stop(); go(step + 1); }
    else if (e.key === "ArrowLeft") { stop(); go(step - 1); }
    else if (e.key === "Escape" && pinned) { pinned = null; tip.hidden = true; }
  });
  showLayout(D.start);
})();
