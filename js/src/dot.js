// DOT from the view model for one expansion state. Pure (no DOM), so node's test runner can check it.
//
// Ids follow the render spec, shared with gradviz/render/dot.py: a visible node is `n<id>`, an expanded group is
// `subgraph cluster_g<gid>` with id `g<gid>`, a collapsed group is one box node `g<gid>`, and an edge is
// `e<parent>_<child>` between two nodes (`e3_12`) and `e<tail>_<head>` over DOT ids when a box is at either end
// (`eg4_n12`, `en3_g4`).

const MAX_LINE = 60; // longest line of user text drawn in a label; the details panel shows the full text
export const FANOUT_LIMIT = 12; // more out-edges than this from one drawn element ...
export const FANOUT_SHOWN = 3; // ... and only this many are drawn

// A DOT double-quoted string. Inside quotes only `"` needs escaping for the parser, but Graphviz then reads
// backslash escapes in labels (\n, \l, \N, \G ...), so a user's backslash is doubled; a newline becomes the
// centred line break `\n`; other control characters are dropped. Graphviz also reads HTML entities in labels
// ("&amp;" would show as "&"), so & becomes &amp;. Graphviz's SVG output escapes < and > itself.
export function quote(text) {
  const s = String(text)
    .replace(/\r\n?/g, "\n")
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, "")
    .replace(/&/g, "&amp;")
    .replace(/\\/g, "\\\\")
    .replace(/"/g, '\\"')
    .replace(/\n/g, "\\n");
  return `"${s}"`;
}

// One line of user text for a label: no line breaks, at most MAX_LINE characters.
export function shorten(text, max = MAX_LINE) {
  const s = String(text).replace(/\s*[\r\n]+\s*/g, " ");
  return s.length > max ? s.slice(0, max - 1) + "\u2026" : s;
}

// A summary's number as it appears in labels: non-finite floats arrive as the strings "nan", "inf", "-inf".
export function num(x) {
  if (x === undefined || x === null) return "";
  if (typeof x === "string") return x;
  if (x === 0) return "0";
  const a = Math.abs(x);
  if (a >= 1e-3 && a < 1e4) return String(Number(x.toPrecision(4)));
  return x.toExponential(2);
}

// The norm of a summary: a number, NaN when non-finite ("nan"/"inf" strings), 0 when omitted (a zero array), and
// for a container (a dict or tuple gradient) the root of the sum of its items' squared norms. null if unknown.
export function normOf(summary) {
  if (!summary) return null;
  if (summary.items) {
    let total = 0;
    let known = false;
    for (const [, item] of summary.items) {
      const n = normOf(item);
      if (n === null) continue;
      known = true;
      total += n * n;
    }
    return known ? Math.sqrt(total) : null;
  }
  if (summary.norm === undefined || summary.norm === null) {
    // A summary omits norm when it is 0 (defaults are left out).
    return summary.type !== undefined ? 0 : null;
  }
  if (typeof summary.norm === "string") return summary.norm === "inf" ? Infinity : NaN;
  return summary.norm;
}

// A norm as drawn: num() for finite numbers, "nan" and "inf" for the others.
export function normText(n) {
  return Number.isFinite(n) ? num(n) : Number.isNaN(n) ? "nan" : "inf";
}

// Does a summary (or any item of a container) hold NaN or Inf?
export function nonFinite(summary) {
  if (!summary) return false;
  if (summary.items) return summary.items.some(([, item]) => nonFinite(item));
  return Boolean(summary.nan || summary.inf) || typeof summary.norm === "string";
}

// log10 of a summary's norm: null if unknown, -Infinity for 0, NaN for a non-finite norm.
export function logNorm(summary) {
  const n = normOf(summary);
  if (n === null) return null;
  if (Number.isNaN(n) || !Number.isFinite(n)) return NaN;
  return n > 0 ? Math.log10(n) : -Infinity;
}

// Which box each group is hidden in: the outermost collapsed group on its chain to the root (the root is never
// collapsed), or -1 when the group is visible as a cluster.
export function boxes(model, collapsed) {
  const groups = model.groups;
  const box = new Array(groups.length).fill(undefined);
  const resolve = (gid) => {
    if (box[gid] !== undefined) return box[gid];
    const g = groups[gid];
    const parent = g.parent === null || g.parent === undefined ? -1 : g.parent;
    const above = parent < 0 ? -1 : resolve(parent);
    box[gid] = above >= 0 ? above : gid !== 0 && parent >= 0 && collapsed.has(gid) ? gid : -1;
    return box[gid];
  };
  for (let gid = 0; gid < groups.length; gid++) resolve(gid);
  return box;
}

// The DOT id a node is drawn as: its own `n<id>`, or the box of the collapsed group it is hidden in.
export function representative(model, box, nodeId) {
  const b = box[model.nodes[nodeId].group];
  return b >= 0 ? `g${b}` : `n${nodeId}`;
}

// The SVG id of the edge between two drawn elements (DOT ids "n3", "g4").
export function edgeId(tail, head) {
  return tail[0] === "n" && head[0] === "n" ? `e${tail.slice(1)}_${head.slice(1)}` : `e${tail}_${head}`;
}

// The initial collapsed set chosen by the model's budget.
export function initialCollapsed(model) {
  return new Set(model.groups.filter((g) => g.collapsed && g.id !== 0).map((g) => g.id));
}

// What each node's VJP sent to each parent, by "parent>child", and each node's steps, for the backward view.
// In the trace of grad of grad a node is stepped once per backward pass; the later (outer) pass wins.
export function stepIndex(model) {
  const sent = new Map();
  const stepOf = new Map(); // node -> its last step
  const stepsOf = new Map(); // node -> all its steps, in order
  model.steps.forEach((step, k) => {
    stepOf.set(step.node, k);
    if (!stepsOf.has(step.node)) stepsOf.set(step.node, []);
    stepsOf.get(step.node).push(k);
    const here = new Map();
    for (const [, parent, summary] of step.sent) {
      const key = `${parent}>${step.node}`;
      const l = logNorm(summary);
      const old = here.get(key);
      // x * x sends to the same parent twice; the edge shows the larger contribution.
      if (old === undefined || old === null || (l !== null && (Number.isNaN(l) || l > old))) here.set(key, l);
    }
    for (const [key, l] of here) sent.set(key, l);
  });
  return { sent, stepOf, stepsOf };
}

const ROLE_STYLE = {
  input: { shape: "box", style: "rounded,filled,bold", fillcolor: "#dff3df", color: "#37474f" },
  output: { shape: "box", style: "rounded,filled,bold", fillcolor: "#fff1c6", color: "#b8860b" },
  constant: { shape: "box", style: "rounded,dashed", color: "#9e9e9e", fontcolor: "#616161" },
  operation: { shape: "box", style: "rounded,filled", fillcolor: "#ffffff", color: "#455a64" },
};
const GROUP_FILL = { call: "#f5f7fa", loop: "#eef5ff", iteration: "#f8fbff", vjp: "#f3ecfb", root: "#ffffff" };

function attrs(obj) {
  const parts = [];
  for (const [k, v] of Object.entries(obj)) if (v !== undefined && v !== null) parts.push(`${k}=${quote(v)}`);
  return `[${parts.join(", ")}]`;
}

export function summaryLine(s) {
  if (!s) return "";
  const bits = [s.type || ""];
  const n = normOf(s);
  if (n === null) return bits[0];
  bits.push(n === 0 && !nonFinite(s) ? "0" : `\u2016\u00b7\u2016=${normText(n)}`);
  if (s.nan) bits.push(`${s.nan} nan`);
  if (s.inf) bits.push(`${s.inf} inf`);
  return bits.join(" ");
}

function nodeLabel(node, view, step) {
  const head = node.role === "operation" || node.role === "output" ? node.op : node.op || node.role;
  const lines = [node.name ? `${shorten(node.name, 30)} = ${shorten(head, 30)}` : shorten(head)];
  lines.push(shorten(node.type || ""));
  if (view === "backward" && step) {
    const fan = step.arrived.length > 1 ? `\u03a3 ${step.arrived.length} in  ` : "";
    const n = normOf(step.outgrad);
    let text = n === null ? "\u1e21 ?" : `\u1e21 ${normText(n)}`;
    if (nonFinite(step.outgrad) && Number.isFinite(n)) text += " (non-finite)";
    lines.push(fan + text);
  }
  return lines.join("\n");
}

function nodeTooltip(model, node) {
  const site = node.site !== undefined ? model.sites[node.site] : null;
  const where = site ? `\n${site.file}:${site.line} in ${site.function}` : "";
  return shorten(`%${node.id} ${node.primitive || node.op}`, 120) + where;
}

// Edge colour for a log10 norm in [lo, hi]: blue (small) to red (large).
function ramp(t) {
  const c0 = [66, 133, 244];
  const c1 = [211, 47, 47];
  const mix = c0.map((a, i) => Math.round(a + (c1[i] - a) * t));
  return "#" + mix.map((v) => v.toString(16).padStart(2, "0")).join("");
}

// The DOT text for the model in `state` = {view, collapsed:Set<gid>}. Also returns what is drawn, for the DOM.
export function buildDot(model, state) {
  const view = state.view === "backward" ? "backward" : "forward";
  const collapsed = state.collapsed;
  const box = boxes(model, collapsed);
  const { sent, stepOf } = state.index || stepIndex(model);
  const groups = model.groups;
  const childGroups = groups.map(() => []);
  for (const g of groups) if (g.parent !== null && g.parent !== undefined) childGroups[g.parent].push(g.id);
  const nodesIn = groups.map(() => []);
  const visibleNodes = [];
  for (const node of model.nodes) {
    if (box[node.group] < 0) {
      nodesIn[node.group].push(node);
      visibleNodes.push(node.id);
    }
  }

  const out = [];
  out.push("digraph gradviz {");
  out.push(`  graph ${attrs({ id: "graph0", rankdir: "TB", nodesep: "0.25", ranksep: "0.35", fontname: "Helvetica",
    fontsize: "10", bgcolor: "transparent", newrank: "true" })};`);
  out.push(`  node ${attrs({ fontname: "Helvetica", fontsize: "10", height: "0.3", margin: "0.08,0.03" })};`);
  out.push(`  edge ${attrs({ fontname: "Helvetica", fontsize: "8", arrowsize: "0.6", color: "#607d8b" })};`);

  // Edges parent -> child between what is drawn, merged when a collapsed box stands for several nodes.
  const edges = new Map();
  for (const node of model.nodes) {
    if (!node.parents.length) continue;
    const head = representative(model, box, node.id);
    for (const [argnum, parent] of node.parents) {
      const tail = representative(model, box, parent);
      if (tail === head) continue;
      const id = edgeId(tail, head);
      let e = edges.get(id);
      if (!e) {
        e = { id, tail, head, argnums: new Set(), pairs: [], faded: true };
        edges.set(id, e);
      }
      if (head[0] === "n" && node.parents.length > 1) e.argnums.add(argnum);
      e.pairs.push([parent, node.id]);
      if (!(node.faded || model.nodes[parent].faded)) e.faded = false;
    }
  }
  // A drawn element feeding very many others (a weight used by every layer, a shared constant) keeps its first
  // FANOUT_SHOWN edges and says how many uses it has: hundreds of long edges make Graphviz's layout take minutes.
  const outEdges = new Map();
  for (const e of edges.values()) {
    if (!outEdges.has(e.tail)) outEdges.set(e.tail, []);
    outEdges.get(e.tail).push(e);
  }
  const fanout = new Map();
  for (const [tail, list] of outEdges) {
    if (list.length <= FANOUT_LIMIT) continue;
    list.sort((a, b) => a.pairs[0][1] - b.pairs[0][1]);
    for (const e of list.slice(FANOUT_SHOWN)) edges.delete(e.id);
    fanout.set(tail, { uses: list.length, shown: FANOUT_SHOWN, heads: list.map((e) => e.head) });
  }

  const drawnBoxes = [];
  const clusters = [];
  const emitGroup = (gid, indent) => {
    for (const node of nodesIn[gid]) {
      const style = { ...(ROLE_STYLE[node.role] || ROLE_STYLE.operation) };
      if (node.made_by !== undefined) {
        // Made by an inner backward pass (grad of grad): the VJP's own operations.
        style.fillcolor = "#e9ddf7";
        style.style = node.role === "constant" ? style.style : "rounded,filled";
      } else if (node.level) {
        // The inner trace's forward pass (a deeper level): the same computation, recorded by the inner grad.
        Object.assign(style, { fillcolor: "#f7f3fc", color: "#9575cd" });
        style.style = node.role === "constant" ? style.style : "rounded,filled";
      }
      if (node.faded) Object.assign(style, { color: "#c7c7c7", fontcolor: "#9e9e9e", fillcolor: "#fafafa" });
      const step = stepOf.has(node.id) ? model.steps[stepOf.get(node.id)] : null;
      const fan = fanout.get(`n${node.id}`);
      const label = nodeLabel(node, view, step) + (fan ? `\n\u21c9 ${fan.uses} uses (${fan.shown} drawn)` : "");
      out.push(`${indent}n${node.id} ${attrs({ id: `n${node.id}`, label,
        tooltip: nodeTooltip(model, node), ...style })};`);
    }
    for (const child of childGroups[gid]) {
      const g = groups[child];
      if (box[child] === child) {
        drawnBoxes.push(child);
        const fan = fanout.get(`g${child}`);
        const uses = fan ? `\n\u21c9 ${fan.uses} uses (${fan.shown} drawn)` : "";
        out.push(`${indent}g${child} ${attrs({ id: `g${child}`, label: `\u25b8 ${shorten(g.label)}\n${g.size} nodes${uses}`,
          shape: "box3d", style: "filled", fillcolor: g.kind === "vjp" ? "#e9ddf7" : "#e3ecf7", color: "#5c6bc0",
          tooltip: `${shorten(g.label, 120)} (click to expand)` })};`);
      } else if (box[child] < 0) {
        clusters.push(child);
        out.push(`${indent}subgraph cluster_g${child} {`);
        out.push(`${indent}  graph ${attrs({ id: `g${child}`, label: `\u25be ${shorten(g.label)}`, labeljust: "l",
          style: "rounded,filled", fillcolor: GROUP_FILL[g.kind] || "#f5f7fa",
          color: g.kind === "vjp" ? "#9575cd" : "#b0bec5", fontsize: "9", fontcolor: "#37474f",
          tooltip: `${shorten(g.label, 120)} (click the label to collapse)` })};`);
        emitGroup(child, indent + "  ");
        out.push(`${indent}}`);
      }
    }
  };
  emitGroup(0, "  ");

  let lo = Infinity;
  let hi = -Infinity;
  if (view === "backward") {
    for (const e of edges.values()) {
      let best = null;
      for (const [p, c] of e.pairs) {
        const l = sent.get(`${p}>${c}`);
        if (l === undefined || l === null) continue;
        if (best === null || Number.isNaN(l) || l > best) best = l;
        if (Number.isNaN(best)) break;
      }
      e.log = best;
      if (best !== null && Number.isFinite(best)) {
        lo = Math.min(lo, best);
        hi = Math.max(hi, best);
      }
    }
  }
  for (const e of edges.values()) {
    const a = { id: e.id };
    if (e.argnums.size) a.label = [...e.argnums].sort((x, y) => x - y).join(",");
    if (e.faded) Object.assign(a, { color: "#d0d0d0", fontcolor: "#9e9e9e" });
    if (view === "backward") {
      a.dir = "back"; // arrows show the outgrad flowing from child to parent; the layout stays the forward one
      if (e.log === null || e.log === undefined) Object.assign(a, { style: "dotted", color: "#bdbdbd", penwidth: "0.6" });
      else if (Number.isNaN(e.log)) Object.assign(a, { color: "#b71c1c", penwidth: "3", style: "bold" });
      else if (e.log === -Infinity) Object.assign(a, { style: "dashed", color: "#9e9e9e", penwidth: "0.6" });
      else {
        const t = hi > lo ? (e.log - lo) / (hi - lo) : 0.5;
        Object.assign(a, { penwidth: (0.6 + 4.4 * t).toFixed(2), color: ramp(t) });
      }
      a.tooltip = e.log === null || e.log === undefined ? "nothing sent" : Number.isNaN(e.log)
        ? "non-finite outgrad" : e.log === -Infinity ? "outgrad norm 0" : `outgrad norm ${num(10 ** e.log)}`;
    }
    out.push(`  ${e.tail} -> ${e.head} ${attrs(a)};`);
  }
  out.push("}");
  return { dot: out.join("\n"), box, visibleNodes, boxes: drawnBoxes, clusters, edges: [...edges.values()], fanout };
}
