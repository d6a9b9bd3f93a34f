"""The widget in JupyterLab, in Chromium: open a notebook that traces a model, run it, and use the widget."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from gvbrowser import (
    EXPECTED_HELPER,
    READY_TIMEOUT,
    check_widget,
    load_expected,
    wait_current,
    wait_layout,
    write_notebook,
)

NOTEBOOK = "trace_widget.ipynb"


def open_and_run(page: Any, server: Any, name: str) -> None:
    """Open the notebook in JupyterLab, wait for its kernel, run all its cells (JupyterLab's own command)."""
    page.goto(server.lab_url(name), wait_until="domcontentloaded", timeout=60_000)
    page.wait_for_function(
        """name => {
            const app = window.jupyterapp;
            const panel = app && app.shell && app.shell.currentWidget;
            return !!(panel && panel.context && panel.sessionContext && panel.context.path.endsWith(name));
        }""",
        arg=name, timeout=60_000)
    started = page.evaluate("""async () => {
        const app = window.jupyterapp;
        const panel = app.shell.currentWidget;
        const ready = Promise.all([app.restored, panel.context.ready, panel.sessionContext.ready]);
        const late = new Promise(resolve => setTimeout(() => resolve(false), 60000));
        if (!await Promise.race([ready.then(() => true), late])) return false;
        await app.commands.execute('notebook:run-all-cells');
        return true;
    }""")
    assert started, "the notebook or its kernel session was not ready within 60 s (see the JupyterLab log)"


def kernel_run(page: Any, code: str) -> None:
    """Run ``code`` in the notebook's kernel (not as a cell) and wait for it to finish."""
    status = page.evaluate("""async code => {
        const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
        const reply = await kernel.requestExecute({code, store_history: false, silent: false}).done;
        return reply.content.status === 'ok' ? 'ok' : `${reply.content.ename}: ${reply.content.evalue}`;
    }""", code)
    assert status == "ok", f"{code!r} failed in the kernel: {status}"


def cell_errors(page: Any) -> list[str]:
    """The error outputs (tracebacks) of the open notebook's cells, read from its model."""
    return page.evaluate("""() => {
        const panel = window.jupyterapp.shell.currentWidget;
        const found = [];
        for (const cell of panel.content.widgets) {
            const outputs = cell.model.outputs ? cell.model.outputs.toJSON() : [];
            for (const out of outputs) {
                if (out.output_type === 'error') {
                    const tb = (out.traceback || []).join('\\n').replace(/\\u001b\\[[0-9;]*m/g, '');
                    found.push(`${out.ename}: ${out.evalue}\\n${tb}`);
                }
            }
        }
        return found;
    }""")


def wait_output(page: Any, selector: str, timeout_ms: int = READY_TIMEOUT) -> Any:
    """Until ``selector`` is in an output; a traceback in any cell fails at once, showing it."""
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        errors = cell_errors(page)
        if errors:
            pytest.fail("a notebook cell failed:\n" + "\n".join(errors), pytrace=False)
        found = page.locator(f".jp-OutputArea-output {selector}")
        if found.count():
            return found.first
        if time.monotonic() > deadline:
            pytest.fail(f"no {selector} in the notebook's outputs after {timeout_ms / 1000:.0f} s", pytrace=False)
        page.wait_for_timeout(250)


def test_widget_in_jupyterlab(jupyter_lab: Any, page: Any) -> None:
    write_notebook(jupyter_lab.root / NOTEBOOK)
    jupyter_lab.copy_in(EXPECTED_HELPER)
    open_and_run(page.page, jupyter_lab, NOTEBOOK)
    wait_output(page.page, "div.gradviz")
    expected = load_expected(jupyter_lab.root / "expected.json")
    widgets = page.page.locator(".jp-OutputArea-output div.gradviz")
    page.page.wait_for_function("() => document.querySelectorAll('.jp-OutputArea-output div.gradviz').length === 2",
                                timeout=READY_TIMEOUT)
    root = widgets.nth(0)
    check_widget(page, root, expected)

    # The synced traits: the kernel's widget knows what the page did (view, step, selected) ...
    kernel_run(page.page, "import json; json.dump([w.view, w.step, w.selected], open('traits.json', 'w'))")
    assert json.loads((jupyter_lab.root / "traits.json").read_text()) == ["forward", 2, expected["tapped"]]
    # ... and the page follows the kernel.
    kernel_run(page.page, "w.step = 0; w.view = 'backward'")
    wait_current(root, expected["steps"][0])
    page.page.wait_for_function(
        "root => root.querySelector('button[data-action=\"backward\"]').classList.contains('active')",
        arg=root.element_handle(), timeout=10_000)
    wait_layout(root)
    page.screenshot("from-kernel")

    # The Trace displayed as itself: the widget at the default budget, as many nodes as Python draws there.
    shown = widgets.nth(1)
    wait_layout(shown, READY_TIMEOUT)
    assert int(shown.get_attribute("data-nodes")) == expected["default_visible"]
    # Offline: JupyterLab and the widget fetch nothing but the local server (the wasm is inside the bundle).
    remote = [url for url in page.requests if not url.startswith((jupyter_lab.url + "/", "data:", "blob:"))]
    assert not remote, f"the page made requests beyond the local JupyterLab: {remote}"
