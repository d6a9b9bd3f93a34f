// Bundles src/index.js with Graphviz compiled to WebAssembly (its wasm is embedded in the package, so the bundle
// needs no network) into one ES module: gradviz/render/static/widget.js. The CSS is inlined as text.
import { build } from "esbuild";
import { mkdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const outfile = process.argv[2] || join(here, "..", "gradviz", "render", "static", "widget.js");
mkdirSync(dirname(outfile), { recursive: true });
await build({
  entryPoints: [join(here, "src", "index.js")],
  bundle: true,
  format: "esm",
  platform: "browser",
  target: ["es2020"],
  minify: true,
  legalComments: "eof",
  loader: { ".css": "text" },
  outfile,
  logLevel: "warning",
});
console.log(`gradviz: wrote ${outfile} (${(statSync(outfile).size / 1024).toFixed(0)} KiB)`);
