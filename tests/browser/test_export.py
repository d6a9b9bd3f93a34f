"""The standalone HTML export in Chromium: opened from file:// with no kernel, the same checks, and no network."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

from gv_expected import annotate_fail
from gv_expected import expected as expected_of
from gvbrowser import BUDGET, MODEL_CODE, check_widget

LOCAL_SCHEMES = ("file:", "data:", "blob:")  # data: and blob: URLs are made in the page, not fetched


def load_model(directory: Path) -> Any:
    """The model's code as a module file (so its nodes have real source lines), imported under a fresh name."""
    path = directory / "gv_model_export.py"
    path.write_text(MODEL_CODE)
    spec = importlib.util.spec_from_file_location("gv_model_export", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


def test_exported_html(tmp_path: Path, page: Any) -> None:
    import gradviz

    model = load_model(tmp_path)
    trace = gradviz.trace(model.model, model.W, model.x)
    annotate_fail(trace)
    expected = expected_of(trace, BUDGET)
    written = trace.save_html(tmp_path / "report.html", budget=BUDGET)
    assert Path(written) == tmp_path / "report.html"

    sockets = []
    page.page.on("websocket", lambda socket: sockets.append(socket.url))
    page.page.goto((tmp_path / "report.html").as_uri(), wait_until="load")
    root = page.page.locator("div.gradviz")
    root.first.wait_for(state="attached", timeout=30_000)
    assert root.count() == 1
    check_widget(page, root, expected)

    remote = [url for url in page.requests if not url.startswith(LOCAL_SCHEMES)]
    assert not remote, f"the exported page made network requests: {remote}"
    assert not sockets, f"the exported page opened websockets: {sockets}"
    assert page.requests[0] == (tmp_path / "report.html").as_uri()
