// gradviz's widget: the anywidget entry point (default export) and mount() for the standalone HTML export.

import { loadGraphviz, mount } from "./widget.js";

export { loadGraphviz, mount };
export { buildDot, quote } from "./dot.js";

// anywidget: the view model arrives as a JSON string trait; view, step and selected are synced both ways.
function render({ model, el }) {
  let controller = null;
  const start = () => {
    if (controller) controller.destroy();
    const vm = JSON.parse(model.get("_model_json"));
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
  const onView = () => controller.setView(model.get("view"));
  const onStep = () => controller.setStep(model.get("step"));
  const onSelected = () => controller.select(model.get("selected"));
  model.on("change:view", onView);
  model.on("change:step", onStep);
  model.on("change:selected", onSelected);
  model.on("change:_model_json", start);
  return () => {
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
      mount(el, JSON.parse(source.textContent), {});
    } catch (err) {
      console.error("gradviz: could not mount the view", err);
    }
  }
}
autoMount();
