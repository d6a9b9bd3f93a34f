import assert from "node:assert/strict";
import { test } from "node:test";

import { boxes, buildDot, initialCollapsed, quote, representative } from "../src/dot.js";
import { describeSummary, matches } from "../src/format.js";
import { fixture, HOSTILE } from "./fixture.mjs";

// Read a DOT double-quoted string back the way Graphviz's parser does: \" is a quote, any other backslash stays.
function unquote(q) {
  assert.equal(q[0], '"');
  let out = "";
  for (let i = 1; i < q.length; i++) {
    if (q[i] === "\\" && q[i + 1] === '"') {
      out += '"';
      i++;
    } else if (q[i] === "\\") {
      out += q[i] + q[i + 1];
      i++;
    } else if (q[i] === '"') {
      assert.equal(i, q.length - 1, "an unescaped quote ends the string early");
    } else out += q[i];
  }
  return out;
}

// Graphviz's label escapes applied to the parsed string: \\ is a backslash, \n a line break.
function labelText(s) {
  const unescaped = s.replace(/\\(.)/g, (_, c) => (c === "n" ? "\n" : c === "\\" ? "\\" : `\\${c}`));
  return unescaped.replace(/&amp;/g, "&");
}

test("quote escapes backslash, quote and newline so the label reads back as the user's text", () => {
  for (const text of [HOSTILE, 'ends with \\', '"', "&amp; &lt; &#60;", "\\n is not a newline", "x\r\ny", "{}[];=<>&", "\u00e9\u4e2d"]) {
    const q = quote(text);
    assert.ok(!/[\n\r]/.test(q), "no raw line breaks in DOT");
    assert.equal(labelText(unquote(q)), text.replace(/\r\n?/g, "\n"));
  }
});

test("quote drops control characters that Graphviz would choke on", () => {
  assert.equal(quote("a\u0000b\u0007c\td"), '"abc\td"');
});

test("every attribute value in the DOT is one well-formed quoted string", () => {
  const { dot } = buildDot(fixture(), { view: "forward", collapsed: new Set() });
  // Walk the text: outside strings there must be no stray characters from user text.
  let outside = "";
  for (let i = 0; i < dot.length; i++) {
    if (dot[i] === '"') {
      i++;
      while (dot[i] !== '"') i += dot[i] === "\\" ? 2 : 1;
      outside += "S";
    } else outside += dot[i];
  }
  assert.ok(!outside.includes("<") && !outside.includes("&") && !outside.includes("brace"), outside);
  // Braces outside strings balance: the hostile "}" stayed inside its string.
  assert.equal((outside.match(/\{/g) || []).length, (outside.match(/\}/g) || []).length);
});

test("ids: visible nodes n<id>, expanded groups cluster_g<gid> with id g<gid>", () => {
  const m = fixture();
  const { dot, visibleNodes, clusters, boxes: drawn } = buildDot(m, { view: "forward", collapsed: new Set() });
  assert.deepEqual(visibleNodes, [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(clusters.sort(), [1, 2]);
  assert.deepEqual(drawn, []);
  assert.match(dot, /subgraph cluster_g1 \{\n\s+graph \[id="g1"/);
  assert.match(dot, /subgraph cluster_g2 \{\n\s+graph \[id="g2"/);
  for (let i = 0; i < 6; i++) assert.match(dot, new RegExp(`\\bn${i} \\[id="n${i}"`));
  assert.match(dot, /n0 -> n1 \[id="e0_1"/);
});

test("a collapsed group is one box with its nested groups' nodes, and its edges are redirected and deduplicated", () => {
  const m = fixture();
  const collapsed = initialCollapsed(m);
  assert.deepEqual([...collapsed], [1]);
  const box = boxes(m, collapsed);
  assert.deepEqual(box, [-1, 1, 1]); // group 2 is hidden inside group 1's box
  assert.equal(representative(m, box, 2), "g1");
  assert.equal(representative(m, box, 3), "n3");
  const { dot, visibleNodes, boxes: drawn, edges } = buildDot(m, { view: "forward", collapsed });
  assert.deepEqual(visibleNodes, [0, 3, 4, 5]);
  assert.deepEqual(drawn, [1]);
  assert.match(dot, /\bg1 \[id="g1", label="▸ a<b>&amp;c \\"q\\" \\\\back \{brace\} \} new\\n2 nodes"/);
  assert.ok(!dot.includes("cluster_g1") && !dot.includes("cluster_g2"));
  const ids = edges.map((e) => e.id).sort();
  // n0 feeds n1 and n2 (both in the box): one edge; the box feeds n3 through argnums 0 and 1: one edge.
  assert.deepEqual(ids, ["en0_g1", "e3_5", "eg1_n3"].sort());
  assert.equal(dot.match(/n0 -> g1/g).length, 1);
  assert.equal(dot.match(/g1 -> n3/g).length, 1);
  assert.match(dot, /g1 -> n3 \[id="eg1_n3", label="0,1"/);
});

test("nested collapsed groups: the outermost collapsed one is drawn", () => {
  const m = fixture();
  const box = boxes(m, new Set([1, 2]));
  assert.deepEqual(box, [-1, 1, 1]);
  const inner = boxes(m, new Set([2]));
  assert.deepEqual(inner, [-1, -1, 2]);
  const { dot } = buildDot(m, { view: "forward", collapsed: new Set([2]) });
  assert.match(dot, /subgraph cluster_g1/);
  assert.match(dot, /n1 -> g2 \[id="en1_g2"/);
  assert.match(dot, /g2 -> n3 \[id="eg2_n3"/);
});

test("the root group is never a box", () => {
  const m = fixture();
  const { visibleNodes } = buildDot(m, { view: "forward", collapsed: new Set([0]) });
  assert.ok(visibleNodes.includes(0));
});

test("argnum labels only where a node has several parents", () => {
  const { dot } = buildDot(fixture(), { view: "forward", collapsed: new Set() });
  assert.match(dot, /n0 -> n2 \[id="e0_2", label="1"/);
  assert.match(dot, /n1 -> n2 \[id="e1_2", label="0"/);
  assert.match(dot, /n2 -> n3 \[id="e2_3", label="0,1"/);
  assert.match(dot, /n0 -> n1 \[id="e0_1"\]|n0 -> n1 \[id="e0_1", (?!label)/);
});

test("backward view: width grows with the log norm sent; non-finite is marked; fan-in shows on the node", () => {
  const { dot } = buildDot(fixture(), { view: "backward", collapsed: new Set() });
  const width = (id) => Number(new RegExp(`id="${id}"[^\\n]*penwidth="([0-9.]+)"`).exec(dot)[1]);
  assert.ok(width("e1_2") > width("e3_5"));
  assert.ok(width("e3_5") > width("e2_3"));
  assert.ok(width("e2_3") > width("e0_2"));
  assert.match(dot, /id="e0_1"[^\n]*color="#b71c1c"/);
  assert.match(dot, /n0 \[id="n0", label="[^\n]*\\nΣ 2 in/);
  assert.match(dot, /dir="back"/);
});

test("a node off the path is styled faded", () => {
  const { dot } = buildDot(fixture(), { view: "forward", collapsed: new Set() });
  assert.match(dot, /n4 \[id="n4"[^\n]*fontcolor="#9e9e9e"/);
});

test("search matches op, tap name, code text and file:line", () => {
  const m = fixture();
  const hits = (q) => m.nodes.filter((n) => matches(m, n, q)).map((n) => n.id);
  assert.deepEqual(hits("tanh"), [1, 2]); // op of 1, and both share the site whose code says np.tanh
  assert.deepEqual(hits("multiply"), [2, 3]);
  assert.deepEqual(hits("model.py:12"), [1, 2]);
  assert.deepEqual(hits("model.py:13"), []);
  assert.deepEqual(hits("{brace}"), [0]);
  assert.deepEqual(hits("   "), []);
});

test("summaries describe non-finite and zero values", () => {
  assert.match(describeSummary({ type: "f64[2]", norm: "nan", nan: 1 }), /norm nan.*1 NaN/);
  assert.match(describeSummary({ type: "f64[2]" }), /all zero/);
  assert.match(describeSummary({ type: "tuple", items: [["0", { type: "f64[]", norm: 2 }]] }), /0: f64\[\]  norm 2/);
});

test("real Graphviz (WebAssembly) lays the DOT out with the ids and the hostile text as escaped text", async () => {
  const { Graphviz } = await import("@hpcc-js/wasm-graphviz");
  const gv = await Graphviz.load();
  const m = fixture();
  for (const collapsed of [new Set(), initialCollapsed(m)]) {
    for (const view of ["forward", "backward"]) {
      const { dot, visibleNodes, boxes: drawn } = buildDot(m, { view, collapsed });
      const svg = gv.dot(dot);
      const nodeIds = [...svg.matchAll(/<g id="([ng]\d+)" class="node"/g)].map((x) => x[1]).sort();
      assert.deepEqual(nodeIds, [...visibleNodes.map((i) => `n${i}`), ...drawn.map((g) => `g${g}`)].sort());
      assert.ok(!svg.includes("<b>") && !svg.includes("</script>"));
      assert.ok(svg.includes("a&lt;b&gt;&amp;c &quot;q&quot; \\back {brace} }"), "the label is the user's text");
    }
  }
  const { dot } = buildDot(m, { view: "forward", collapsed: new Set() });
  const svg = gv.dot(dot);
  assert.match(svg, /<g id="g1" class="cluster"/);
  assert.match(svg, /<g id="e0_2" class="edge"/);
});

test("an element feeding very many others draws its first few edges and counts its uses", () => {
  const nodes = [{ id: 0, op: "input", role: "input", type: "f64[3]", group: 0, parents: [], args: [], value: {} }];
  const groups = [{ id: 0, kind: "root", label: "f", parent: null, size: 41, collapsed: false }];
  for (let i = 1; i <= 40; i++) {
    nodes.push({ id: i, op: "sin", role: "operation", type: "f64[3]", group: 0, parents: [[0, 0]], args: ["%0"], value: {} });
  }
  const m = { groups, nodes, steps: [], sites: [] };
  const { dot, edges, fanout } = buildDot(m, { view: "forward", collapsed: new Set() });
  assert.deepEqual(edges.map((e) => e.id), ["e0_1", "e0_2", "e0_3"]);
  assert.equal(fanout.get("n0").uses, 40);
  assert.match(dot, /n0 \[id="n0", label="input\\nf64\[3\]\\n⇉ 40 uses \(3 drawn\)"/);
  // Every node is still drawn.
  for (let i = 0; i <= 40; i++) assert.match(dot, new RegExp(`\\bn${i} \\[id="n${i}"`));
  // Twelve uses are drawn in full.
  const few = { ...m, nodes: nodes.slice(0, 13) };
  assert.equal(buildDot(few, { view: "forward", collapsed: new Set() }).edges.length, 12);
});

test("edge ids: numbers between two nodes, DOT ids when a box is at an end", async () => {
  const { edgeId } = await import("../src/dot.js");
  assert.equal(edgeId("n3", "n12"), "e3_12");
  assert.equal(edgeId("g4", "n12"), "eg4_n12");
  assert.equal(edgeId("n3", "g4"), "en3_g4");
  assert.equal(edgeId("g1", "g2"), "eg1_g2");
});
