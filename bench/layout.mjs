// The browser's share of the first view, timed under Node with the widget's own code (js/src) and Graphviz
// compiled to WebAssembly (@hpcc-js/wasm-graphviz from js/node_modules), as the widget and the HTML export run it.
// Used by bench/render.py:
//     node bench/layout.mjs graph.dot [repeats]        lay out a DOT file
//     node bench/layout.mjs --model model.json [repeats]
//         JSON.parse of the model text, expandModel (js/src/decode.js), buildDot of the initial collapsed view
//         (js/src/dot.js, which also indexes the steps), and the layout of that DOT
// prints one JSON line: {"load_s": ..., "layout_s": [...], "svg_bytes": ..., and with --model "parse_s",
// "decode_s", "dot_s": [...], "dot_bytes"}. load_s is the one-off module load (once per page).
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { performance } from "node:perf_hooks";

const here = dirname(fileURLToPath(import.meta.url));
const js = join(here, "..", "js");
const entry = join(js, "node_modules", "@hpcc-js", "wasm-graphviz", "dist", "index.js");
const args = process.argv.slice(2);
const modelMode = args[0] === "--model";
const path = modelMode ? args[1] : args[0];
const repeats = Number((modelMode ? args[2] : args[1]) || 1);
const text = readFileSync(path, "utf8");
const seconds = (start) => (performance.now() - start) / 1000;

let start = performance.now();
const { Graphviz } = await import(pathToFileURL(entry).href);
const graphviz = await Graphviz.load();
const loadSeconds = seconds(start);
const report = { load_s: loadSeconds, layout_s: [] };
let sources = [text];
if (modelMode) {
  const { expandModel } = await import(pathToFileURL(join(js, "src", "decode.js")).href);
  const { buildDot, initialCollapsed } = await import(pathToFileURL(join(js, "src", "dot.js")).href);
  Object.assign(report, { parse_s: [], decode_s: [], dot_s: [] });
  sources = [];
  for (let i = 0; i < repeats; i++) {
    start = performance.now();
    const raw = JSON.parse(text);
    report.parse_s.push(seconds(start));
    start = performance.now();
    const model = expandModel(raw);
    report.decode_s.push(seconds(start));
    start = performance.now();
    const built = buildDot(model, { view: "forward", collapsed: initialCollapsed(model) });
    report.dot_s.push(seconds(start));
    sources.push(built.dot);
    report.nodes = model.nodes.length;
    report.dot_bytes = built.dot.length;
  }
}
let svg = "";
for (let i = 0; i < repeats; i++) {
  const source = sources[Math.min(i, sources.length - 1)];
  start = performance.now();
  svg = graphviz.dot(source, "svg");
  report.layout_s.push(seconds(start));
}
report.svg_bytes = svg.length;
console.log(JSON.stringify(report));
