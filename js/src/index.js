// gradviz's widget: the anywidget entry point (default export) and mount() for the standalone HTML export.

import { loadGraphviz, mount } from "./widget.js";
import { expandModel } from "./decode.js";

export { loadGraphviz, mount };
export { buildDot, quote } from "./dot.js";

// The view model from the widget's traits: UTF-8 JSON bytes, zlib-compressed when _model_encoding is "zlib" (big
// models). Bytes from the kernel arrive as a DataView (an ArrayBuffer from saved widget state); a string is JSON.
export async function decodeModel(raw, encoding) {
  if (typeof raw === "string") return JSON.parse(raw);
  if (encoding === "zlib") {
    const stream = new Blob([raw]).stream().pipeThrough(new DecompressionStream("deflate"));
    return JSON.parse(await new Response(stream).text());
  }
  return JSON.parse(new TextDecoder().decode(raw));
}

// anywidget: the view model arrives once as bytes; view, step and selected are synced both ways.
function render({ model, el }) {
  let controller = null;
  let generation = 0;
  const start = async () => {
    const mine = ++generation;
    if (controller) controller.destroy();
    controller = null;
    let vm;
    try {
      vm = expandModel(await decodeModel(model.get("_model_json"), model.get("_model_encoding")));
    } catch (err) {
      console.error("gradviz: could not read the view model", err);
      return;
    }
    if (mine !== generation) return;
    controller = mount(el, vm, {
      view: model.get("view"),
      step: model.get("step"),
      selected: model.get("selected"),
      onChange(key, value) {
        model.set(key, value);
        model.save_changes();
      },
    });
  };
  start();
  const onView = () => controller && controller.setView(model.get("view"));
  const onStep = () => controller && controller.setStep(model.get("step"));
  const onSelected = () => controller && controller.select(model.get("selected"));
  model.on("change:view", onView);
  model.on("change:step", onStep);
  model.on("change:selected", onSelected);
  model.on("change:_model_json", start);
  return () => {
    generation++;
    model.off("change:view", onView);
    model.off("change:step", onStep);
    model.off("change:selected", onSelected);
    model.off("change:_model_json", start);
    if (controller) controller.destroy();
  };
}

export default { render };

// The standalone HTML export: every element with data-gradviz-model="<id of a JSON script>" is mounted when the
// module runs. In a notebook there are none, so this does nothing there.
function autoMount() {
  if (typeof document === "undefined") return;
  for (const el of document.querySelectorAll("[data-gradviz-model]")) {
    if (el.dataset.gradvizMounted) continue;
    el.dataset.gradvizMounted = "1";
    try {
      const source = document.getElementById(el.dataset.gradvizModel);
      mount(el, expandModel(JSON.parse(source.textContent)), {});
    } catch (err) {
      console.error("gradviz: could not mount the view", err);
    }
  }
}
autoMount();
