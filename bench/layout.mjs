// Time Graphviz compiled to WebAssembly (@hpcc-js/wasm-graphviz from js/node_modules) laying out a DOT file,
// as the widget and the HTML export do in the browser. Used by bench/render.py:
//     node bench/layout.mjs graph.dot [repeats]
// prints one JSON line: {"load_s": ..., "layout_s": [...], "svg_bytes": ...}
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { performance } from "node:perf_hooks";

const here = dirname(fileURLToPath(import.meta.url));
const entry = join(here, "..", "js", "node_modules", "@hpcc-js", "wasm-graphviz", "dist", "index.js");
const [, , path, repeatsArg] = process.argv;
const repeats = Number(repeatsArg || 1);
const source = readFileSync(path, "utf8");

let start = performance.now();
const { Graphviz } = await import(pathToFileURL(entry).href);
const graphviz = await Graphviz.load();
const loadSeconds = (performance.now() - start) / 1000;
const layoutSeconds = [];
let svg = "";
for (let i = 0; i < repeats; i++) {
  start = performance.now();
  svg = graphviz.dot(source, "svg");
  layoutSeconds.push((performance.now() - start) / 1000);
}
console.log(JSON.stringify({ load_s: loadSeconds, layout_s: layoutSeconds, svg_bytes: svg.length }));
