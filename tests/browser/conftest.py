"""Fixtures for the tests that look at the widget in a real browser: Chromium driven by Playwright, JupyterLab.

Both are required: a missing Chromium or JupyterLab fails these tests with a message saying what to install (CI
installs them; see .ci/run). Every page collects its console errors and uncaught exceptions, and a test fails on
any. Screenshots go to the artifacts directory ($GRADVIZ_ARTIFACTS, else test-artifacts/ at the repository root).

The browser tests run in one xdist worker (group "browser", with ``--dist loadgroup``): one Chromium and one
JupyterLab at a time is all two cores can carry next to the rest of the suite.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("GRADVIZ_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]
REPO = Path(__file__).resolve().parents[2]
BROWSER_DIR = Path(__file__).resolve().parent
LAB_START_TIMEOUT = 90.0  # seconds for JupyterLab to answer; it takes 3-8 s on 2 idle cores
LAB_STOP_TIMEOUT = 15.0
LOG_TAIL = 6000  # characters of a server log shown with a failure


def artifacts_dir() -> Path:
    """Where screenshots are kept: $GRADVIZ_ARTIFACTS/browser, else <repo>/test-artifacts/browser."""
    root = Path(os.environ.get("GRADVIZ_ARTIFACTS") or REPO / "test-artifacts")
    path = root / "browser"
    path.mkdir(parents=True, exist_ok=True)
    return path


# --- the group, and the outcome of each phase kept on the item (fixtures read it to save evidence on failure)

def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if BROWSER_DIR in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.xdist_group("browser"))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    report = yield
    setattr(item, f"_gv_report_{report.when}", report)
    if report.failed and report.when in ("setup", "call"):
        for name in ("jupyter_lab",):
            server = getattr(item, "funcargs", {}).get(name)
            if isinstance(server, LabServer):
                report.sections.append(("JupyterLab log (tail)", server.log_tail()))
        page = getattr(item, "funcargs", {}).get("page")
        if isinstance(page, BrowserPage) and page.problems:
            report.sections.append(("browser console errors", "\n".join(page.problems)))
    return report


def _failed(item: pytest.Item) -> bool:
    return any(getattr(getattr(item, f"_gv_report_{when}", None), "failed", False) for when in ("setup", "call"))


# --- Chromium

@pytest.fixture(scope="module")
def browser_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A headless Chromium (Debian's, by path) with a fresh profile; one per test module."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: the browser tests need it. Install Debian's "
                    "chromium (`apt-get install -y chromium`; .ci/run does) or set GRADVIZ_CHROMIUM to its path.",
                    pytrace=False)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        pytest.fail(f"the PyPI package playwright is missing ({error}): pip install playwright. Its browsers are "
                    "not needed (`playwright install` is not used); it drives the system Chromium.", pytrace=False)
    profile = tmp_path_factory.mktemp("chromium-profile")
    manager = sync_playwright()
    playwright = manager.start()
    try:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": 1400, "height": 1000}, timeout=60_000, accept_downloads=False,
            service_workers="block",
        )
    except Exception as error:
        manager.__exit__(None, None, None)
        pytest.fail(f"Chromium at {CHROMIUM} did not start: {error}", pytrace=False)
    context.set_default_timeout(30_000)
    try:
        yield context
    finally:
        try:
            context.close()
        finally:
            manager.__exit__(None, None, None)


@dataclass
class BrowserPage:
    """A Playwright page with the console errors, uncaught exceptions and requests it saw."""

    page: Any
    name: str
    problems: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    shots: int = 0

    def screenshot(self, label: str) -> Path:
        self.shots += 1
        path = artifacts_dir() / f"{self.name}-{self.shots:02d}-{label}.png"
        widget = self.page.locator("div.gradviz").first
        if widget.count():  # in JupyterLab the widget sits below its cell's code: show it, not the code
            widget.scroll_into_view_if_needed(timeout=5_000)
        self.page.screenshot(path=str(path), full_page=False)
        return path

    def assert_no_errors(self) -> None:
        assert not self.problems, "the page reported JS errors:\n" + "\n".join(self.problems)


def _safe_name(nodeid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.split("::")[-1])[:80]


@pytest.fixture
def page(browser_context: Any, request: pytest.FixtureRequest) -> Iterator[BrowserPage]:
    """A new tab; the test fails if the page logs a console error or throws (checked again at teardown)."""
    tab = browser_context.new_page()
    watched = BrowserPage(tab, _safe_name(request.node.nodeid))

    def on_console(message: Any) -> None:
        if message.type == "error":
            location = message.location or {}
            watched.problems.append(f"console.error: {message.text} "
                                    f"({location.get('url', '?')}:{location.get('lineNumber', '?')})")

    tab.on("console", on_console)
    tab.on("pageerror", lambda error: watched.problems.append(f"uncaught: {error}"))
    tab.on("request", lambda req: watched.requests.append(req.url))
    try:
        yield watched
    finally:
        if _failed(request.node):
            try:
                print(f"screenshot of the failure: {watched.screenshot('FAILED')}", file=sys.stderr)
                (artifacts_dir() / f"{watched.name}-FAILED.html").write_text(tab.content())
            except Exception as error:  # the page may be gone; the failure itself is what matters
                print(f"no screenshot of the failure: {error}", file=sys.stderr)
        tab.close()
    if not _failed(request.node):
        watched.assert_no_errors()


# --- JupyterLab

def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# Settings that keep JupyterLab off the network and free of pop-ups: no news, no update check, no extension
# manager listing PyPI, the whole notebook rendered (not windowed: off-screen outputs exist in the DOM).
_SERVER_CONFIG = {"LabApp": {"news_url": None, "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
                             "extension_manager": "readonly", "expose_app_in_browser": True}}
_PAGE_CONFIG = {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}
_USER_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                        "checkForUpdates": False},
}


@dataclass
class LabServer:
    process: subprocess.Popen
    url: str
    token: str
    root: Path
    log: Path

    def api(self, path: str, method: str = "GET", timeout: float = 10.0) -> Any:
        request = urllib.request.Request(f"{self.url}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def lab_url(self, notebook: str) -> str:
        return f"{self.url}/lab/tree/{notebook}?token={self.token}"

    def log_tail(self) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError as error:
            return f"(no log: {error})"
        return text[-LOG_TAIL:]

    def copy_in(self, source: Path, name: str | None = None) -> Path:
        target = self.root / (name or source.name)
        shutil.copyfile(source, target)
        return target


def _start_lab(base: Path) -> LabServer:
    root, config, data, runtime, settings = (base / name for name in
                                             ("root", "config", "data", "runtime", "user-settings"))
    for path in (root, config / "labconfig", data, runtime, settings, base / "ipython", base / "workspaces"):
        path.mkdir(parents=True, exist_ok=True)
    (config / "jupyter_server_config.json").write_text(json.dumps(_SERVER_CONFIG))
    (config / "jupyter_lab_config.json").write_text(json.dumps(_SERVER_CONFIG))
    (config / "labconfig" / "page_config.json").write_text(json.dumps(_PAGE_CONFIG))
    for name, values in _USER_SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    token = secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(config), JUPYTER_DATA_DIR=str(data),
               JUPYTER_RUNTIME_DIR=str(runtime), IPYTHONDIR=str(base / "ipython"), JUPYTER_PREFER_ENV_PATH="1",
               JUPYTER_PLATFORM_DIRS="1", PYTHONUNBUFFERED="1", MPLBACKEND="Agg")
    env.pop("JUPYTER_PATH", None)
    env.pop("JUPYTER_CONFIG_PATH", None)
    for _attempt in range(3):  # a free port can be taken between finding it and the server binding it
        try:
            return _launch_lab(base, root, settings, env, token, _free_port())
        except _PortTaken:
            continue
    raise RuntimeError("JupyterLab found no free port in three attempts")


class _PortTaken(Exception):
    pass


def _launch_lab(base: Path, root: Path, settings: Path, env: dict, token: str, port: int) -> LabServer:
    command = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        "--port-retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
        "--ServerApp.open_browser=False", "--expose-app-in-browser",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--LabApp.extension_manager=readonly",
        f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={base / 'workspaces'}",
    ]
    if os.geteuid() == 0:  # CI containers run as root
        command.append("--allow-root")
    log = base / "jupyterlab.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                   cwd=root, env=env, start_new_session=True)
    server = LabServer(process, f"http://127.0.0.1:{port}", token, root, log)
    deadline = time.monotonic() + LAB_START_TIMEOUT
    while True:
        if process.poll() is not None:
            if "already in use" in server.log_tail() or "Address already" in server.log_tail():
                raise _PortTaken()
            raise RuntimeError(f"JupyterLab exited with status {process.returncode} before answering.\n"
                               f"command: {' '.join(command)}\nlog:\n{server.log_tail()}")
        try:
            server.api("/api/status", timeout=2.0)
            server.api("/lab/api/settings/@jupyterlab/notebook-extension:tracker", timeout=5.0)
            return server
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        if time.monotonic() > deadline:
            _stop_lab(server)
            raise RuntimeError(f"JupyterLab did not answer on {server.url} within {LAB_START_TIMEOUT:.0f} s.\n"
                               f"log:\n{server.log_tail()}")
        time.sleep(0.25)


def _stop_lab(server: LabServer) -> None:
    """Shut down the kernels and the server through its API; then SIGTERM, SIGKILL its process group."""
    process = server.process
    if process.poll() is None:
        try:
            for kernel in server.api("/api/kernels", timeout=5.0) or []:
                server.api(f"/api/kernels/{kernel['id']}", method="DELETE", timeout=10.0)
            server.api("/api/shutdown", method="POST", timeout=5.0)
        except Exception:  # a wedged server: the signals below end it
            pass
        try:
            process.wait(LAB_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)  # the server's session: anything it started without a new session
        except ProcessLookupError:
            break
        try:
            process.wait(5.0)
        except subprocess.TimeoutExpired:
            continue
    if process.poll() is None:
        process.kill()
        process.wait(5.0)


@pytest.fixture(scope="module")
def jupyter_lab() -> Iterator[LabServer]:
    """A JupyterLab on 127.0.0.1 (free port, random token, a fresh root directory and config), stopped afterwards."""
    try:
        import ipykernel  # noqa: F401
        import jupyterlab  # noqa: F401
    except ImportError as error:
        pytest.fail(f"JupyterLab is not installed ({error}): pip install jupyterlab ipykernel ipywidgets anywidget "
                    "(the dev extra has them).", pytrace=False)
    base = Path(tempfile.mkdtemp(prefix="gradviz-lab-"))
    try:
        server, failure = _start_lab(base), None
    except RuntimeError as error:
        server, failure = None, str(error)
    if server is None:
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(failure, pytrace=False)
    try:
        yield server
    finally:
        _stop_lab(server)
        keep = artifacts_dir() / "jupyterlab.log"
        try:
            shutil.copyfile(server.log, keep)
        except OSError:
            pass
        shutil.rmtree(base, ignore_errors=True)
