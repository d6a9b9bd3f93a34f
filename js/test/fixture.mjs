// A small hand-made view model (the render spec's shape) with hostile user text, for the DOT builder's tests.

export const HOSTILE = 'a<b>&c "q" \\back {brace} }\nnew';

export function fixture() {
  const s = (norm, type = "f64[3]") => ({ type, norm, min: -1, max: 1, mean: 0.1, head: [1, 2] });
  return {
    schema: "gradviz.view", version: 1, function: "loss", argnum: 0, value: s(2, "f64[]"), budget: 300, levels: 1,
    sites: [{ file: "/home/u/model.py", line: 12, function: "layer", code: "h = np.tanh(W @ x)  # <b>\"x\"</b>" }],
    groups: [
      { id: 0, kind: "root", label: "loss", parent: null, size: 6, collapsed: false },
      { id: 1, kind: "call", label: HOSTILE, parent: 0, size: 2, collapsed: true, site: 0 },
      { id: 2, kind: "call", label: "inner", parent: 1, size: 1, collapsed: false },
    ],
    nodes: [
      { id: 0, op: "input", role: "input", type: "f64[3]", group: 0, parents: [], args: [], value: s(1), name: HOSTILE },
      { id: 1, op: "tanh", role: "operation", type: "f64[3]", group: 1, parents: [[0, 0]], args: ["%0"],
        value: s(0.5), site: 0, primitive: "numpy.tanh" },
      { id: 2, op: "multiply", role: "operation", type: "f64[3]", group: 2, parents: [[0, 1], [1, 0]],
        args: ["%1", "%0"], value: s(0.4), site: 0 },
      { id: 3, op: "multiply", role: "operation", type: "f64[3]", group: 0, parents: [[0, 2], [1, 2]],
        args: ["%2", "%2"], value: s(0.3) },
      { id: 4, op: "constant", role: "constant", type: "f64[3]", group: 0, parents: [], args: [], value: s(3),
        faded: true },
      { id: 5, op: "sum", role: "output", type: "f64[]", group: 0, parents: [[0, 3]], args: ["%3"], value: s(2, "f64[]"),
        annotations: [{ kind: "vjp-check", status: "fail", message: "bad </script> vjp", error: 0.5 }] },
    ],
    steps: [
      { node: 5, level: 0, arrived: [[null, null, s(1, "f64[]")]], outgrad: s(1, "f64[]"), sent: [[0, 3, s(1.7)]] },
      { node: 3, level: 0, arrived: [[5, 0, s(1.7)]], outgrad: s(1.7), sent: [[0, 2, s(0.01)], [1, 2, s(0.02)]] },
      { node: 2, level: 0, arrived: [[3, 0, s(0.01)], [3, 1, s(0.02)]], outgrad: s(0.03),
        sent: [[0, 1, s(100)], [1, 0, s(0.001)]] },
      { node: 1, level: 0, arrived: [[2, 0, s(100)]], outgrad: s(100), sent: [[0, 0, s("nan")]] },
      { node: 0, level: 0, arrived: [[1, 0, s("nan")], [2, 1, s(0.001)]], outgrad: s("nan"), sent: [] },
    ],
  };
}
