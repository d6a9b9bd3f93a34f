import assert from "node:assert/strict";
import { test } from "node:test";

import { buildDot, logNorm, normOf, summaryLine } from "../src/dot.js";
import { describeSummary, matches, sizeOf } from "../src/format.js";
import { fixture } from "./fixture.mjs";

// A dict gradient as the model writes it: items keep their zero statistics.
const dictGrad = (w, b) => ({
  type: "{'w': f64[2], 'b': f64[]}",
  items: [["w", { type: "f64[2]", norm: w, min: 0, max: w, mean: w / 2, head: [w, 0] }],
    ["b", { type: "f64[]", norm: b, min: b, max: b, mean: b, head: [b] }]],
});

test("a container's norm is the root of its items' squared norms; a zero array's omitted norm is 0", () => {
  assert.equal(normOf(dictGrad(3, 4)), 5);
  assert.equal(normOf({ type: "f64[3]" }), 0);
  assert.equal(logNorm(dictGrad(3, 4)), Math.log10(5));
  assert.equal(logNorm({ type: "f64[3]" }), -Infinity);
  assert.ok(Number.isNaN(logNorm({ type: "(f64[2], f64[2])", items: [["0", { type: "f64[2]", norm: "nan" }]] })));
  assert.equal(normOf({ type: "f64[]", norm: "inf" }), Infinity);
  assert.equal(normOf(null), null);
  assert.equal(summaryLine(dictGrad(3, 4)), "{'w': f64[2], 'b': f64[]} \u2016\u00b7\u2016=5");
});

test("the backward view draws a dict input's outgrad and the edges into it by their norms", () => {
  const model = fixture();
  // The input is a dict; the steps send dict gradients to it.
  model.nodes[0].type = "{'w': f64[2], 'b': f64[]}";
  model.steps[3].sent = [[0, 0, dictGrad(3, 4)]];
  model.steps[2].sent = [[0, 1, dictGrad(0.3, 0.4)], [1, 0, dictGrad(0.03, 0.04)]];
  model.steps[4].outgrad = dictGrad(6, 8);
  model.steps[4].arrived = [[1, 0, dictGrad(3, 4)], [2, 1, dictGrad(0.03, 0.04)]];
  const { dot } = buildDot(model, { view: "backward", collapsed: new Set() });
  const input = dot.split("\n").find((line) => /^\s*n0 \[/.test(line));
  assert.match(input, /\u1e21 10/, input);
  // Both edges into the input carry a width (they are not the dotted "nothing sent" edge), the larger one wider.
  const width = (id) => Number(new RegExp(`id="${id}"[^\\]]*penwidth="([\\d.]+)"`).exec(dot)[1]);
  assert.ok(width("e0_1") > width("e0_2"), dot);
  assert.doesNotMatch(dot.split("\n").find((line) => line.includes('id="e0_1"')), /dotted/);
});

test("sizes from type strings decide whether the head of the values is all of them", () => {
  assert.equal(sizeOf("f64[3, 2]"), 6);
  assert.equal(sizeOf("f64[]"), 1);
  assert.equal(sizeOf("c128[4]"), 4);
  assert.equal(sizeOf("{'w': f64[2]}"), null);
  assert.equal(describeSummary({ type: "f64[4]", norm: 1, head: [1, 2, 3, 4] }), "f64[4]  norm 1  [1, 2, 3, 4]");
  assert.match(describeSummary({ type: "f64[5]", norm: 1, head: [1, 2, 3, 4] }), /\[1, 2, 3, 4, \u2026\]$/);
});

test("search finds a node by the name of the function whose code made it", () => {
  const model = fixture();
  assert.ok(matches(model, model.nodes[1], "layer"));
  assert.ok(!matches(model, model.nodes[3], "layer"));
});

test("grad of grad: nodes made by a VJP and the inner trace's forward nodes are drawn apart from each other", () => {
  const model = fixture();
  model.levels = 2;
  model.nodes[1].made_by = 3; // made by the VJP of %3
  model.nodes[2].level = 1; // the inner trace's forward pass
  const { dot } = buildDot(model, { view: "forward", collapsed: new Set() });
  const line = (id) => dot.split("\n").find((l) => new RegExp(`^\\s*n${id} \\[`).test(l));
  assert.match(line(1), /fillcolor="#e9ddf7"/);
  assert.match(line(2), /fillcolor="#f7f3fc"/);
  assert.doesNotMatch(line(3), /#e9ddf7|#f7f3fc/);
});

test("a search finds nodes by what they are first, and by their source line only when nothing else matches", async () => {
  const { searchHits } = await import("../src/format.js");
  const model = fixture();
  // "tanh" is node 1's op, and node 2's source line calls np.tanh: the op wins.
  assert.deepEqual(searchHits(model, "tanh"), { ids: [1], bySource: false });
  // "np.tanh" is only in the code of the line behind nodes 1 and 2.
  assert.deepEqual(searchHits(model, "np.tanh"), { ids: [1, 2], bySource: true });
  assert.deepEqual(searchHits(model, "model.py:12"), { ids: [1, 2], bySource: true });
  assert.deepEqual(searchHits(model, "nothing like it"), { ids: [], bySource: false });
});
