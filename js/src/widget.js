// The interactive view of one view model: toolbar, laid-out SVG with pan and zoom, details and step panels.
// All user text goes into the page through textContent (or through Graphviz's SVG, which escapes it).

import { Graphviz } from "@hpcc-js/wasm-graphviz";
import { buildDot, edgeId, initialCollapsed, representative, shorten, stepIndex } from "./dot.js";
import { describeSummary, nodeTitle, recipeText, searchHits, siteText } from "./format.js";
import css from "./style.css";

let graphvizReady = null; // one WebAssembly instance for every widget on the page
export function loadGraphviz() {
  if (!graphvizReady) graphvizReady = Graphviz.load();
  return graphvizReady;
}

const EXPAND_ALL_LIMIT = 2000; // expand-all stops before the drawing gets this many elements
const BUSY_ABOVE = 400; // drawn elements above which a layout first shows "laying out ..."
const MIN_READABLE = 0.85; // pixels per point below which the first view shows part of the graph, not all of it

const STEP_CLASSES = ["gv-current", "gv-done", "gv-arrived", "gv-sent"];

function h(tag, props = {}, children = []) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "text") e.textContent = v;
    else if (k === "class") e.className = v;
    else if (k === "data") for (const [dk, dv] of Object.entries(v)) e.dataset[dk] = dv;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.appendChild(c);
  return e;
}

// One <style> per document (or per shadow root, where the page's styles do not reach). A notebook may render the
// widget into an element not yet in the page, whose root node is then a detached element: use the document's head.
function injectStyle(el) {
  const root = el.getRootNode ? el.getRootNode() : document;
  const host = typeof ShadowRoot !== "undefined" && root instanceof ShadowRoot ? root : document.head;
  if (host && !host.querySelector?.("style[data-gradviz]")) {
    const style = document.createElement("style");
    style.dataset.gradviz = "1";
    style.textContent = css;
    host.appendChild(style);
  }
}

// Mount the widget in `el`. options: {view, step, selected, onChange(key, value)}. Returns a controller.
export function mount(el, model, options = {}) {
  injectStyle(el);
  const nodes = model.nodes;
  const steps = model.steps || [];
  const index = stepIndex(model);
  const uses = new Array(nodes.length).fill(0); // how many nodes take each node as an argument
  for (const node of nodes) for (const [, parent] of node.parents) uses[parent]++;
  const state = {
    view: options.view === "backward" ? "backward" : "forward",
    collapsed: initialCollapsed(model),
    step: -1,
    selected: -1,
    query: "",
    index,
  };
  const notify = (key, value) => options.onChange && options.onChange(key, value);

  // --- DOM
  const btn = (action, label, title) => h("button", { type: "button", "data-action": action, title, text: label });
  const forwardBtn = btn("forward", "Forward", "The forward graph");
  const backwardBtn = btn("backward", "Backward", "The outgrad flow: edge width and colour by log norm");
  const search = h("input", { type: "search", class: "gradviz-search", placeholder: "search op, name, code, file:line",
    "data-lm-suppress-shortcuts": "true" });
  const searchCount = h("span", { class: "gradviz-search-count" });
  const prevBtn = btn("prev", "\u25c0", "Previous backward step (ArrowLeft)");
  const nextBtn = btn("next", "\u25b6", "Next backward step (ArrowRight)");
  const slider = h("input", { type: "range", class: "gradviz-slider", min: "0", max: String(Math.max(steps.length - 1, 0)),
    step: "1", value: "0" });
  const stepLabel = h("span", { class: "gradviz-step-label" });
  const toolbar = h("div", { class: "gradviz-toolbar" }, [
    h("span", { class: "gradviz-group" }, [forwardBtn, backwardBtn]),
    h("span", { class: "gradviz-group" }, [search, searchCount]),
    h("span", { class: "gradviz-group" }, [prevBtn, slider, nextBtn, stepLabel]),
    h("span", { class: "gradviz-group" }, [btn("expand-all", "Expand all", "Expand every group"),
      btn("collapse-all", "Collapse all", "Collapse every group"), btn("fit", "Fit", "Fit the graph in view")]),
  ]);
  const title = h("div", { class: "gradviz-title", text: `grad of ${model.function}` });
  const status = h("div", { class: "gradviz-status" });
  const legend = h("div", { class: "gradviz-legend" }, [
    ["current", "current step"], ["arrived", "its contributions came from"], ["sent", "its VJP sends to"],
    ["done", "done"], ["match", "search match"], ["fail", "failed check"],
    ...(model.levels > 1 ? [["vjp", "made by a VJP (grad of grad)"], ["inner", "inner trace's forward pass"]] : []),
  ].map(([kind, text]) => h("span", { class: `gradviz-key-item gradviz-key-${kind}`, text })));
  const graph = h("div", { class: "gradviz-graph" });
  const details = h("div", { class: "gradviz-details gradviz-empty" });
  const stepinfo = h("div", { class: "gradviz-stepinfo gradviz-empty" });
  const side = h("div", { class: "gradviz-side" }, [stepinfo, details]);
  const body = h("div", { class: "gradviz-body" }, [graph, side]);
  const root = h("div", { class: "gradviz", tabindex: "0" }, [title, toolbar, body, h("div",
    { class: "gradviz-footer" }, [status, legend])]);
  el.appendChild(root);

  // --- layout
  let drawn = null; // buildDot's result + {svg, byId: Map(domId -> element), doneAfter: Map(rep -> step index)}
  let generation = 0;
  let vb = null;
  let fitBox = null;
  let first = true;
  let sized = false; // the first view was chosen with the graph on screen (a hidden output has no size yet)
  let lastSize = null; // the graph's [width, height] in pixels when last seen

  // Lay out again; afterwards bring `focus` (a drawn id) into the middle, else keep the view if it still shows
  // part of the graph.
  async function layout(focus) {
    const mine = ++generation;
    root.setAttribute("data-ready", "0");
    const built = buildDot(model, state);
    let text;
    try {
      const gv = await loadGraphviz();
      if (mine !== generation) return;
      // Graphviz runs on the page's thread: before a layout of seconds, let the page paint a note saying so.
      const elements = built.visibleNodes.length + built.boxes.length;
      if (elements > BUSY_ABOVE) {
        status.textContent = `laying out ${elements} elements\u2026`;
        root.classList.add("gradviz-busy");
        await new Promise((resolve) => setTimeout(resolve, 30));
        if (mine !== generation) return;
      }
      text = gv.dot(built.dot);
    } catch (err) {
      console.error("gradviz: Graphviz layout failed", err);
      status.textContent = `layout failed: ${err && err.message ? err.message : err}`;
      return;
    } finally {
      if (mine === generation) root.classList.remove("gradviz-busy");
    }
    const doc = new DOMParser().parseFromString(text, "image/svg+xml");
    const parsed = doc.documentElement;
    if (!parsed || parsed.nodeName !== "svg" || doc.querySelector("parsererror")) {
      console.error("gradviz: Graphviz returned an unreadable SVG");
      return;
    }
    const svg = document.importNode(parsed, true);
    svg.removeAttribute("width");
    svg.removeAttribute("height");
    svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
    for (const t of svg.querySelectorAll("title")) t.remove(); // "n12" tooltips; the <a> tooltips stay
    graph.replaceChildren(svg, wheelHint);
    const byId = new Map();
    for (const g of svg.querySelectorAll("g.node, g.edge, g.cluster")) if (g.id) byId.set(g.id, g);
    // A drawn node is done once its first step has run; a box once every step inside it has.
    const doneAfter = new Map();
    index.stepsOf.forEach((ks, nodeId) => {
      const rep = representative(model, built.box, nodeId);
      const k = rep[0] === "n" ? ks[0] : ks[ks.length - 1];
      if (!(doneAfter.get(rep) >= k)) doneAfter.set(rep, k);
    });
    drawn = { ...built, svg, byId, doneAfter };
    const [x, y, w, hgt] = (svg.getAttribute("viewBox") || "0 0 100 100").trim().split(/[\s,]+/).map(Number);
    fitBox = { x, y, w, h: hgt };
    if (graph.clientWidth > 0 && graph.clientHeight > 0) lastSize = [graph.clientWidth, graph.clientHeight];
    if (first || !vb || !sized) initialView();
    else if (vb.x > x + w || vb.x + vb.w < x || vb.y > y + hgt || vb.y + vb.h < y) fit();
    else setViewBox();
    first = false;
    decorate();
    forwardBtn.classList.toggle("active", state.view === "forward");
    backwardBtn.classList.toggle("active", state.view === "backward");
    const count = svg.querySelectorAll("g.node").length;
    status.textContent = `${built.visibleNodes.length} of ${nodes.length} nodes shown, ${built.boxes.length} collapsed `
      + `group${built.boxes.length === 1 ? "" : "s"}, ${steps.length} backward steps`;
    if (focus) ensureVisible(focus, true);
    root.setAttribute("data-nodes", String(count));
    root.setAttribute("data-ready", "1");
  }

  // --- pan and zoom on the SVG viewBox
  function setViewBox() {
    if (drawn && vb) drawn.svg.setAttribute("viewBox", `${vb.x} ${vb.y} ${vb.w} ${vb.h}`);
  }
  function fit() {
    if (!fitBox) return;
    vb = { ...fitBox };
    // Small graphs are not blown up past 1.5 pixels per point.
    const cw = graph.clientWidth;
    const ch = graph.clientHeight;
    if (cw > 0 && ch > 0) {
      const scale = Math.min(cw / vb.w, ch / vb.h);
      if (scale > 1.5) {
        const w = cw / 1.5;
        const hh = ch / 1.5;
        vb = { x: vb.x - (w - vb.w) / 2, y: vb.y - (hh - vb.h) / 2, w, h: hh };
      }
    }
    setViewBox();
  }
  // Pan (same zoom) so that a drawn element is in view: always when `center`, else only if it is outside.
  function ensureVisible(domId, center) {
    const e = drawn && drawn.byId.get(domId);
    if (!e || !vb || !e.getBBox || !drawn.svg.getScreenCTM()) return;
    const b = e.getBBox();
    const m = drawn.svg.getScreenCTM().inverse().multiply(e.getScreenCTM());
    const xs = [b.x, b.x + b.width].flatMap((x) => [b.y, b.y + b.height].map((y) => m.a * x + m.c * y + m.e));
    const ys = [b.x, b.x + b.width].flatMap((x) => [b.y, b.y + b.height].map((y) => m.b * x + m.d * y + m.f));
    const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    if (!center && x0 >= vb.x && x1 <= vb.x + vb.w && y0 >= vb.y && y1 <= vb.y + vb.h) return;
    vb = { ...vb, x: (x0 + x1) / 2 - vb.w / 2, y: (y0 + y1) / 2 - vb.h / 2 };
    setViewBox();
  }
  // The first view: the whole graph, unless that would be too small to read; then the middle of its top at a
  // readable zoom (the inputs; stepping then brings each current node into view).
  function initialView() {
    fit();
    const cw = graph.clientWidth;
    const ch = graph.clientHeight;
    sized = cw > 0 && ch > 0;
    if (!sized || Math.min(cw / fitBox.w, ch / fitBox.h) >= MIN_READABLE) return;
    const w = cw / MIN_READABLE;
    const hh = ch / MIN_READABLE;
    const x = fitBox.x - (w - fitBox.w) / 2; // the top of the graph, centred
    vb = { x, y: fitBox.y, w, h: hh };
    setViewBox();
  }
  function unitsPerPixel() {
    const cw = graph.clientWidth || 1;
    const ch = graph.clientHeight || 1;
    return Math.max(vb.w / cw, vb.h / ch);
  }
  function clientToSvg(cx, cy) {
    const r = graph.getBoundingClientRect();
    const k = unitsPerPixel();
    // With "meet" the viewBox is centred in the viewport.
    const ox = (r.width - vb.w / k) / 2;
    const oy = (r.height - vb.h / k) / 2;
    return { x: vb.x + (cx - r.left - ox) * k, y: vb.y + (cy - r.top - oy) * k };
  }
  // The wheel zooms once the widget has focus (a click in it) or with Ctrl/Cmd (and trackpad pinches); otherwise it
  // scrolls the notebook past the graph instead of trapping the page under the pointer.
  const wheelHint = h("div", { class: "gradviz-wheel-hint",
    text: "click the graph (or hold Ctrl) to zoom with the wheel" });
  graph.appendChild(wheelHint);
  let hintTimer = null;
  const focused = () => {
    const doc = root.getRootNode();
    const active = doc && doc.activeElement;
    return Boolean(active && root.contains(active));
  };
  graph.addEventListener("wheel", (ev) => {
    if (!vb) return;
    if (!(ev.ctrlKey || ev.metaKey || focused())) {
      wheelHint.classList.add("gradviz-shown");
      clearTimeout(hintTimer);
      hintTimer = setTimeout(() => wheelHint.classList.remove("gradviz-shown"), 1500);
      return;
    }
    wheelHint.classList.remove("gradviz-shown");
    ev.preventDefault();
    const f = Math.exp(Math.max(-1, Math.min(1, ev.deltaY * (ev.deltaMode === 1 ? 0.05 : 0.0015))));
    const p = clientToSvg(ev.clientX, ev.clientY);
    vb = { x: p.x - (p.x - vb.x) * f, y: p.y - (p.y - vb.y) * f, w: vb.w * f, h: vb.h * f };
    setViewBox();
  }, { passive: false });
  let drag = null;
  let dragged = false;
  const onMove = (ev) => {
    if (!drag) return;
    const dx = ev.clientX - drag.cx;
    const dy = ev.clientY - drag.cy;
    if (Math.abs(dx) + Math.abs(dy) > 3) dragged = true;
    if (!dragged) return;
    vb = { ...vb, x: drag.vb.x - dx * drag.k, y: drag.vb.y - dy * drag.k };
    setViewBox();
  };
  const onUp = () => {
    drag = null;
    graph.classList.remove("gradviz-dragging");
    window.removeEventListener("mousemove", onMove);
    window.removeEventListener("mouseup", onUp);
  };
  graph.addEventListener("mousedown", (ev) => {
    root.focus({ preventScroll: true });
    if (ev.button !== 0 || !vb) return;
    ev.preventDefault();
    drag = { cx: ev.clientX, cy: ev.clientY, vb: { ...vb }, k: unitsPerPixel() };
    dragged = false;
    graph.classList.add("gradviz-dragging");
    window.addEventListener("mousemove", onMove);
    window.addEventListener("mouseup", onUp);
  });

  // A widget drawn while hidden (a collapsed output, a background tab, a notebook scrolled away) gets its first
  // view when it appears; a resized one keeps its zoom and shows more or less of the graph. The side panel follows
  // the graph's height (the graph is resizable).
  function onResize() {
    const cw = graph.clientWidth;
    const ch = graph.clientHeight;
    if (ch > 0) side.style.maxHeight = `${graph.offsetHeight}px`;
    if (!(cw > 0 && ch > 0)) return;
    const before = lastSize;
    lastSize = [cw, ch];
    if (!drawn || !vb) return;
    if (!sized) {
      initialView();
      if (state.step >= 0) ensureVisible(repOf(steps[state.step].node), false);
      return;
    }
    if (!before || (before[0] === cw && before[1] === ch)) return;
    const k = Math.max(vb.w / before[0], vb.h / before[1]);
    const cx = vb.x + vb.w / 2;
    const cy = vb.y + vb.h / 2;
    vb = { x: cx - (cw * k) / 2, y: cy - (ch * k) / 2, w: cw * k, h: ch * k };
    setViewBox();
  }
  const resizeObserver = typeof ResizeObserver === "undefined" ? null : new ResizeObserver(onResize);
  if (resizeObserver) resizeObserver.observe(graph);

  // --- classes on the drawn elements
  function classOn(domId, cls) {
    const e = drawn && drawn.byId.get(domId);
    if (e) e.classList.add(cls);
  }
  function repOf(nodeId) {
    return representative(model, drawn.box, nodeId);
  }
  function decorate() {
    if (!drawn) return;
    for (const e of drawn.byId.values()) {
      e.classList.remove(...STEP_CLASSES, "gv-match", "gv-selected", "gv-fail", "gv-warn", "gv-faded", "gv-box");
    }
    for (const id of drawn.visibleNodes) if (nodes[id].faded) classOn(`n${id}`, "gv-faded");
    for (const gid of drawn.boxes) classOn(`g${gid}`, "gv-box");
    for (const node of nodes) {
      if (!node.annotations) continue;
      if (node.annotations.some((a) => a.status === "fail")) classOn(repOf(node.id), "gv-fail");
      else if (node.annotations.some((a) => a.status === "warn")) classOn(repOf(node.id), "gv-warn");
    }
    if (state.selected >= 0 && state.selected < nodes.length) classOn(repOf(state.selected), "gv-selected");
    if (state.query.trim()) {
      const { ids, bySource } = searchHits(model, state.query);
      for (const id of ids) classOn(repOf(id), "gv-match");
      searchCount.textContent = `${ids.length} match${ids.length === 1 ? "" : "es"}${bySource ? " (by source)" : ""}`;
    } else searchCount.textContent = "";
    decorateStep();
  }
  function decorateStep() {
    for (const e of drawn.byId.values()) e.classList.remove(...STEP_CLASSES);
    const k = state.step;
    const n = steps.length;
    stepLabel.textContent = `step ${k + 1} / ${n}`;
    slider.value = String(Math.max(k, 0));
    prevBtn.disabled = k < 0;
    nextBtn.disabled = k >= n - 1;
    if (k < 0) {
      stepinfo.classList.add("gradviz-empty");
      stepinfo.replaceChildren(h("div", { class: "gradviz-hint", text: n
        ? "Step through the backward pass with \u25b6, the slider or the arrow keys."
        : "This trace has no backward steps." }));
      return;
    }
    for (const [rep, last] of drawn.doneAfter) if (last < k) classOn(rep, "gv-done");
    const step = steps[k];
    const here = repOf(step.node);
    classOn(here, "gv-current");
    for (const [child] of step.arrived) {
      if (child === null || child === undefined) continue;
      const rep = repOf(child);
      if (rep === here) continue;
      classOn(rep, "gv-arrived");
      classOn(edgeId(here, rep), "gv-arrived");
    }
    for (const [, parent] of step.sent) {
      const rep = repOf(parent);
      if (rep === here) continue;
      classOn(rep, "gv-sent");
      classOn(edgeId(rep, here), "gv-sent");
    }
    fillStepinfo(step, k, here);
    ensureVisible(here, false);
  }

  function nodeRef(id) {
    const node = nodes[id];
    return node ? `%${id} ${node.name ? shorten(node.name, 40) + " = " : ""}${node.op}` : `%${id}`;
  }
  function fillStepinfo(step, k, here) {
    const node = nodes[step.node];
    const parts = [h("div", { class: "gradviz-panel-title",
      text: `Step ${k + 1} / ${steps.length}: ${nodeRef(step.node)}${step.level ? `  (level ${step.level})` : ""}` })];
    if (here[0] === "g") {
      const g = model.groups[Number(here.slice(1))];
      parts.push(h("div", { class: "gradviz-note", text: `inside the collapsed group \u201c${g.label}\u201d (click it to expand)` }));
    }
    parts.push(h("div", { class: "gradviz-subtitle", text: `Arriving (${step.arrived.length})` }));
    const arriving = h("ul");
    for (const [child, argnum, summary] of step.arrived) {
      const from = child === null || child === undefined ? "seed (the starting cotangent)"
        : `from ${nodeRef(child)}${argnum !== null && argnum !== undefined ? ` (as its argument ${argnum})` : ""}`;
      arriving.appendChild(h("li", { text: `${from}: ${describeSummary(summary)}` }));
    }
    parts.push(arriving);
    parts.push(h("div", { class: "gradviz-sum", text: `sum (outgrad of ${node ? node.op : "?"}): ${describeSummary(step.outgrad)}` }));
    parts.push(h("div", { class: "gradviz-subtitle", text: `Sent by the VJP (${step.sent.length})` }));
    const sentList = h("ul");
    for (const [argnum, parent, summary] of step.sent) {
      sentList.appendChild(h("li", { text: `to ${nodeRef(parent)} (argument ${argnum}): ${describeSummary(summary)}` }));
    }
    if (!step.sent.length) sentList.appendChild(h("li", { text: "nothing (no traced parents)" }));
    parts.push(sentList);
    stepinfo.classList.remove("gradviz-empty");
    stepinfo.replaceChildren(...parts);
  }

  function fillDetails(id) {
    if (id < 0 || id >= nodes.length) {
      details.classList.add("gradviz-empty");
      details.replaceChildren();
      return;
    }
    const node = nodes[id];
    const row = (label, value, cls) => h("div", { class: `gradviz-row ${cls || ""}` }, [
      h("span", { class: "gradviz-key", text: label }), h("span", { class: "gradviz-val", text: value })]);
    const parts = [h("div", { class: "gradviz-panel-title", text: nodeTitle(node) })];
    parts.push(row("recipe", recipeText(node)));
    parts.push(row("role", `${node.role}${node.faded ? " (off the path to the output)" : ""}`
      + `${node.level ? `, level ${node.level}` : ""}`));
    if (node.made_by !== undefined) parts.push(row("made by", `the VJP of ${nodeRef(node.made_by)}`));
    parts.push(row("value", describeSummary(node.value)));
    if (uses[id]) parts.push(row("used by", `${uses[id]} argument${uses[id] === 1 ? "" : "s"} of later nodes`));
    const ks = index.stepsOf.get(id) || [];
    for (const k of ks) {
      const step = steps[k];
      const pass = ks.length > 1 ? ` (level ${step.level})` : "";
      parts.push(row(`outgrad${pass}`, describeSummary(step.outgrad)));
      parts.push(row("step", `${k + 1} of ${steps.length}, ${step.arrived.length} contribution`
        + `${step.arrived.length === 1 ? "" : "s"} summed`));
    }
    if (!ks.length) parts.push(row("outgrad", "none reached this node"));
    const site = siteText(model, node);
    if (site) {
      parts.push(row("source", site.where));
      if (site.code !== null) parts.push(h("pre", { class: "gradviz-code", text: site.code }));
    }
    const chain = [];
    for (let g = node.group; g !== null && g !== undefined && g > 0; g = model.groups[g].parent) {
      chain.push(model.groups[g].label);
    }
    if (chain.length) parts.push(row("in", chain.reverse().join(" \u203a ")));
    const notes = node.annotations || [];
    if (notes.length) {
      const list = h("ul", { class: "gradviz-annotations" });
      for (const a of notes) {
        list.appendChild(h("li", { class: `gradviz-status-${a.status}`,
          text: `${a.status.toUpperCase()} ${a.kind}: ${a.message}${a.error !== null && a.error !== undefined
            ? ` (error ${typeof a.error === "number" ? a.error.toExponential(2) : a.error})` : ""}` }));
      }
      parts.push(h("div", { class: "gradviz-subtitle", text: "checks" }), list);
    }
    details.classList.remove("gradviz-empty");
    details.replaceChildren(...parts);
  }

  // --- actions
  function setView(view, silent) {
    const v = view === "backward" ? "backward" : "forward";
    if (v === state.view) return Promise.resolve();
    state.view = v;
    if (!silent) notify("view", v);
    return layout();
  }
  function setStep(k, silent) {
    const n = steps.length;
    const kk = Math.max(-1, Math.min(n - 1, Number.isFinite(k) ? Math.trunc(k) : -1));
    if (kk === state.step) return;
    state.step = kk;
    if (!silent) notify("step", kk);
    if (drawn) decorateStep();
  }
  function select(id, silent) {
    const sel = Number.isInteger(id) && id >= 0 && id < nodes.length ? id : -1;
    if (sel === state.selected) return;
    state.selected = sel;
    if (!silent) notify("selected", sel);
    fillDetails(sel);
    if (drawn) decorate();
  }
  function expand(gid) {
    if (!state.collapsed.delete(gid)) return Promise.resolve();
    return layout(`g${gid}`);
  }
  function collapse(gid) {
    if (gid <= 0 || state.collapsed.has(gid)) return Promise.resolve();
    state.collapsed.add(gid);
    return layout(`g${gid}`);
  }
  function expandAll() {
    // Breadth-first from the root while the drawing stays under EXPAND_ALL_LIMIT elements.
    const kids = model.groups.map(() => []);
    for (const g of model.groups) if (g.parent !== null && g.parent !== undefined) kids[g.parent].push(g.id);
    const direct = model.groups.map(() => 0);
    for (const node of nodes) direct[node.group]++;
    let shown = direct[0] + kids[0].length;
    const queue = [...kids[0]];
    let stopped = false;
    while (queue.length) {
      const gid = queue.shift();
      if (!state.collapsed.has(gid)) {
        queue.push(...kids[gid]);
        continue;
      }
      const extra = direct[gid] + kids[gid].length - 1;
      if (shown + extra > EXPAND_ALL_LIMIT) {
        stopped = true;
        continue;
      }
      state.collapsed.delete(gid);
      shown += extra;
      queue.push(...kids[gid]);
    }
    return layout().then(() => {
      initialView(); // the whole graph, or its top at a readable zoom when that would be too small
      if (stopped) status.textContent += ` (expand-all stopped at ${EXPAND_ALL_LIMIT} elements)`;
    });
  }
  function collapseAll() {
    state.collapsed = new Set(model.groups.filter((g) => g.id !== 0).map((g) => g.id));
    return layout().then(initialView);
  }

  // --- events
  forwardBtn.addEventListener("click", () => setView("forward"));
  backwardBtn.addEventListener("click", () => setView("backward"));
  prevBtn.addEventListener("click", () => setStep(state.step - 1));
  nextBtn.addEventListener("click", () => setStep(state.step + 1));
  slider.addEventListener("input", () => setStep(Number(slider.value)));
  toolbar.querySelector('[data-action="expand-all"]').addEventListener("click", expandAll);
  toolbar.querySelector('[data-action="collapse-all"]').addEventListener("click", collapseAll);
  toolbar.querySelector('[data-action="fit"]').addEventListener("click", fit);
  // Matching runs over every node: on a big trace, wait for a pause in the typing.
  let searchTimer = null;
  search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    const apply = () => {
      state.query = search.value;
      matchCursor = -1;
      decorate();
    };
    if (nodes.length > 5000) searchTimer = setTimeout(apply, 250);
    else apply();
  });
  let matchCursor = -1;
  search.addEventListener("keydown", (ev) => {
    if (ev.key !== "Enter" || !drawn) return;
    // Enter brings the next match into the middle of the view.
    const hits = [...drawn.svg.querySelectorAll("g.node.gv-match")];
    if (!hits.length) return;
    matchCursor = (matchCursor + 1) % hits.length;
    ensureVisible(hits[matchCursor].id, true);
    ev.preventDefault();
  });
  root.addEventListener("keydown", (ev) => {
    // Keys typed in the widget stay in it: JupyterLab's single-key notebook commands (a, b, x, m, d d ...) would
    // otherwise act on the cell while the graph, a button or the slider has focus. Shift+Enter, Ctrl+S ... pass.
    if (ev.key && ev.key.length === 1 && !ev.ctrlKey && !ev.metaKey && !ev.altKey) ev.stopPropagation();
    const tag = ev.target && ev.target.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") return;
    if (ev.key === "ArrowRight") setStep(state.step + 1);
    else if (ev.key === "ArrowLeft") setStep(state.step - 1);
    else return;
    ev.preventDefault();
    ev.stopPropagation();
  });
  graph.addEventListener("click", (ev) => {
    if (dragged) {
      dragged = false;
      return;
    }
    const target = ev.target;
    const nodeEl = target.closest && target.closest("g.node");
    if (nodeEl) {
      const m = /^([ng])(\d+)$/.exec(nodeEl.id);
      if (m && m[1] === "n") select(Number(m[2]));
      else if (m) expand(Number(m[2]));
      return;
    }
    const cluster = target.closest && target.closest("g.cluster");
    if (cluster && target.closest("text")) {
      const m = /^g(\d+)$/.exec(cluster.id);
      if (m) collapse(Number(m[1]));
    }
  });

  // --- start
  if (Number.isInteger(options.selected) && options.selected >= 0) select(options.selected, true);
  const ready = layout().then(() => {
    if (Number.isInteger(options.step) && options.step >= 0) setStep(options.step, true);
    else decorateStep();
  });

  return {
    root,
    ready,
    setView: (v) => setView(v, true),
    setStep: (k) => setStep(k, true),
    select: (id) => select(id, true),
    expand,
    collapse,
    expandAll,
    collapseAll,
    fit,
    state,
    destroy() {
      generation++;
      if (resizeObserver) resizeObserver.disconnect();
      onUp();
      root.remove();
    },
  };
}
