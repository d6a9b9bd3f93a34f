"""TraceWidget: the bundle as its ES module, the view model as a JSON trait, view/step/selected synced and
validated; how a Trace displays in a terminal and in a notebook kernel."""

from __future__ import annotations

import json

import pytest
import traitlets
from render_fixtures import hostile_model

import gradviz
import gradviz.numpy as np
from gradviz.render import widget as widget_module
from gradviz.render.html import BUNDLE
from gradviz.render.widget import TraceWidget, mimebundle

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def small_trace():
    def loss(x):
        return np.sum(np.tanh(x) * x)

    return gradviz.trace(loss, np.linspace(-1.0, 1.0, 3))


def test_widget_carries_the_bundle_and_the_model():
    model = hostile_model()
    w = TraceWidget(model)
    assert w._esm == BUNDLE.read_text(encoding="utf-8")
    assert json.loads(w._model_json) == model
    assert (w.view, w.step, w.selected) == ("forward", -1, -1)
    state = w.get_state()  # what ipywidgets sends to the browser
    for key in ("_esm", "_model_json", "view", "step", "selected"):
        assert key in state
    assert json.loads(state["_model_json"]) == model


def test_model_goes_to_the_browser_as_a_binary_buffer():
    """A big model must not be escaped into the comm message's JSON: ipywidgets sends bytes as a separate buffer."""
    from ipywidgets.widgets.widget import _remove_buffers

    model = hostile_model()
    state, paths, buffers = _remove_buffers(TraceWidget(model).get_state())
    assert ["_model_json"] in paths
    assert "_model_json" not in state
    assert json.loads(bytes(buffers[paths.index(["_model_json"])]).decode("utf-8")) == model


def test_traits_validate_and_sync_from_the_browser():
    w = TraceWidget(hostile_model(), view="backward")
    assert w.view == "backward"
    with pytest.raises(traitlets.TraitError):
        w.view = "sideways"
    seen = []
    w.observe(lambda change: seen.append((change["name"], change["new"])), names=["step", "selected", "view"])
    w.set_state({"step": 3, "selected": 2, "view": "forward"})  # an update message from the frontend
    assert (w.step, w.selected, w.view) == (3, 2, "forward")
    assert sorted(seen) == [("selected", 2), ("step", 3), ("view", "forward")]
    w.step = 99  # five steps: clamped to the last
    assert w.step == 4
    w.step = -7
    assert w.step == -1
    w.selected = 6  # six nodes (ids 0..5)
    assert w.selected == -1


def test_model_json_is_strict_json():
    model = hostile_model()
    model["value"]["norm"] = float("nan")
    with pytest.raises(ValueError):
        TraceWidget(model)


def test_missing_bundle_says_how_to_build(monkeypatch, tmp_path):
    import gradviz.render.html as html_module

    monkeypatch.setattr(html_module, "BUNDLE", tmp_path / "missing.js")
    with pytest.raises(FileNotFoundError, match=r"pip install -e \."):
        TraceWidget(hostile_model())


def test_outside_a_kernel_a_trace_displays_as_its_listing():
    trace = small_trace()
    assert mimebundle(trace) == {"text/plain": str(trace)}
    assert trace._repr_mimebundle_() == {"text/plain": str(trace)}


def test_widget_from_a_real_trace_uses_the_view_model():
    from gradviz.render.model import view_model

    trace = small_trace()
    w = trace.widget(budget=50, view="backward")
    assert isinstance(w, TraceWidget)
    assert json.loads(w._model_json) == json.loads(json.dumps(view_model(trace, budget=50)))
    assert w.view == "backward"
    w.step = len(trace.steps) + 5
    assert w.step == len(trace.steps) - 1


def test_in_a_kernel_the_bundle_is_the_widget_plus_the_listing(monkeypatch):
    trace = small_trace()
    monkeypatch.setattr(widget_module, "_in_kernel", lambda: True)
    data = trace._repr_mimebundle_()
    if isinstance(data, tuple):
        data = data[0]
    assert set(data) == {"text/plain", WIDGET_MIME}
    assert data["text/plain"] == str(trace)
    model_id = data[WIDGET_MIME]["model_id"]
    from ipywidgets.widgets.widget import _instances

    shown = _instances[model_id]  # the widget stays alive for the frontend to find
    assert isinstance(shown, TraceWidget) and shown.trace is trace


def test_a_real_kernel_displays_a_trace_as_the_widget(tmp_path):
    """A notebook run in ipykernel: the trace's display data carries the widget view and the text listing."""
    import nbformat
    from nbclient import NotebookClient

    code = ("import numpy\nimport gradviz, gradviz.numpy as np\n"
            "trace = gradviz.trace(lambda x: np.sum(np.tanh(x) * x), numpy.linspace(-1.0, 1.0, 3))\ntrace")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    outputs = nb.cells[0].outputs
    assert [o["output_type"] for o in outputs] == ["execute_result"]
    data = outputs[0]["data"]
    assert WIDGET_MIME in data
    assert "tanh" in data["text/plain"] and "<Trace" not in data["text/plain"]


def test_a_big_model_goes_zlib_compressed_and_a_small_one_plain(monkeypatch):
    import zlib

    import gradviz.render.widget as widget_module

    model = hostile_model()
    small = TraceWidget(model)
    assert small._model_encoding == "" and json.loads(small._model_json) == model
    monkeypatch.setattr(widget_module, "COMPRESS_ABOVE", 100)  # the hostile model is a few KB of JSON
    big = TraceWidget(model)
    assert big._model_encoding == "zlib"
    assert len(big._model_json) < len(small._model_json)
    assert json.loads(zlib.decompress(big._model_json).decode("utf-8")) == model
