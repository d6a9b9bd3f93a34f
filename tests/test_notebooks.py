"""Every notebook in notebooks/ runs from top to bottom in a real Jupyter kernel and shows what it promises.

Each notebook is executed with nbclient and ipykernel, in a kernel started from this interpreter (a kernelspec
written to a temporary directory, so a stale ``python3`` kernel elsewhere on the machine is never used). A cell
error fails the test. A code cell may list, in its metadata ``gradviz.expect``, the output types it must produce
(e.g. the widget's ``application/vnd.jupyter.widget-view+json``, or ``image/svg+xml`` for a Graphviz picture); a
notebook must list some. ``gradviz.widget`` in a cell's metadata gives traits its widget must end up with (e.g.
``{"view": "backward"}``), read from the widget state the kernel sent. Notebooks are committed without outputs.
"""

import json
import sys
import time
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))
WIDGET = "application/vnd.jupyter.widget-view+json"
SECONDS = 20  # each notebook must stay quick to run


@pytest.fixture(scope="session")
def kernel_specs(tmp_path_factory):
    """A kernelspec directory whose only kernel runs ipykernel with this very interpreter."""
    specs = tmp_path_factory.mktemp("kernels")
    spec = specs / "gradviz-test"
    spec.mkdir()
    argv = [sys.executable, "-Xfrozen_modules=off", "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "gradviz tests", "language": "python"}))
    return KernelSpecManager(kernel_dirs=[str(specs)], ensure_native_kernel=False)


def expected_outputs(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("gradviz", {}).get("expect", []))


def widget_states(notebook, cell) -> list[dict]:
    """The synced state of each widget the cell displayed."""
    saved = notebook.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    models = saved.get("state", {})
    return [models.get(output["data"][WIDGET]["model_id"], {}).get("state", {})
            for output in cell.get("outputs", [])
            if output["output_type"] in ("display_data", "execute_result") and WIDGET in output["data"]]


def produced(cell) -> set[str]:
    kinds = set()
    for output in cell.get("outputs", []):
        if output["output_type"] in ("display_data", "execute_result"):
            kinds.update(output["data"])
        elif output["output_type"] == "stream":
            kinds.add(f"stream:{output['name']}")
    return kinds


def test_there_are_notebooks():
    names = {path.name for path in PATHS}
    assert {"01-tour.ipynb", "02-stepping-backward.ipynb", "03-higher-order.ipynb",
            "04-implementing-autograd.ipynb", "05-debugging-a-wrong-vjp.ipynb"} <= names


@pytest.mark.parametrize("path", PATHS, ids=[path.stem for path in PATHS])
def test_notebook_is_committed_clean(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code, "a notebook with no code"
    assert all(not cell.outputs and cell.execution_count is None for cell in code), "clear the outputs first"
    assert any(expected_outputs(cell) for cell in code), "say in cell metadata gradviz.expect what the notebook shows"
    assert sum(cell.cell_type == "markdown" for cell in notebook.cells) >= 3, "a notebook tells a story"


@pytest.mark.parametrize("path", PATHS, ids=[path.stem for path in PATHS])
def test_notebook_runs_and_shows_its_pictures(path, kernel_specs, tmp_path):
    notebook = nbformat.read(path, as_version=4)
    km = KernelManager(kernel_name="gradviz-test", kernel_spec_manager=kernel_specs)
    # Run in a scratch directory: files the notebook writes (an HTML export) land there, not in the checkout.
    client = NotebookClient(notebook, km=km, timeout=60, allow_errors=False,
                            resources={"metadata": {"path": str(tmp_path)}})
    start = time.perf_counter()
    client.execute()  # raises CellExecutionError, with the cell and its traceback, when a cell fails
    seconds = time.perf_counter() - start
    missing = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        for kind in expected_outputs(cell):
            if kind not in produced(cell):
                missing.append(f"cell {index} ({cell.source.splitlines()[0]!r}) did not show {kind}; "
                               f"it showed {sorted(produced(cell))}")
        traits = cell.metadata.get("gradviz", {}).get("widget")
        if traits:
            states = widget_states(notebook, cell)
            if not any(all(state.get(key) == value for key, value in traits.items()) for state in states):
                missing.append(f"cell {index} ({cell.source.splitlines()[0]!r}) showed no widget with {traits}; "
                               f"its widgets: {[{key: state.get(key) for key in traits} for state in states]}")
    assert not missing, "\n".join(missing)
    assert seconds < SECONDS + 10, f"{path.name} took {seconds:.1f} s to run (kernel start included)"
