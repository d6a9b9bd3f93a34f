"""The package build also builds the widget's JS bundle (js/ -> gradviz/render/static/widget.js).

Everything else about the package is in pyproject.toml. The bundle is not committed: ``pip install .`` and
``pip install -e .`` run ``npm ci`` and ``node build.mjs`` in js/, which needs Node.js and npm (the npm packages
are pinned in js/package-lock.json; Graphviz comes as WebAssembly inside one of them, so the result runs offline).
Set GRADVIZ_SKIP_JS=1 to build without the widget (the engine works; the widget and HTML export then say how to
build it).
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).parent.resolve()
JS = HERE / "js"
BUNDLE = HERE / "gradviz" / "render" / "static" / "widget.js"


def build_bundle() -> None:
    if os.environ.get("GRADVIZ_SKIP_JS") == "1":
        print("gradviz: GRADVIZ_SKIP_JS=1, not building the widget bundle", file=sys.stderr)
        return
    if not (JS / "package.json").exists():
        if BUNDLE.exists():  # a source tree that ships the built bundle instead of the JS sources
            return
        raise RuntimeError(f"gradviz: neither the JS sources ({JS}) nor the built bundle ({BUNDLE}) are here")
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        raise RuntimeError(
            "gradviz: building the notebook widget needs Node.js (>= 18) and npm on PATH, but "
            f"`{'npm' if npm is None else 'node'}` was not found. Install them (Debian/Ubuntu: "
            "`apt-get install nodejs npm`; or from nodejs.org) and run the install again; or set GRADVIZ_SKIP_JS=1 "
            "to install without the widget."
        )
    lock, installed = JS / "package-lock.json", JS / "node_modules" / ".package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        print("gradviz: npm ci (js/)", file=sys.stderr)
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=JS, check=True)
    print("gradviz: node build.mjs (js/)", file=sys.stderr)
    subprocess.run([node, "build.mjs", str(BUNDLE)], cwd=JS, check=True)


class BuildPyWithBundle(build_py):
    """build_py that first builds the widget bundle, so that it lands in the wheel as package data."""

    def run(self) -> None:
        build_bundle()
        super().run()


setup(cmdclass={"build_py": BuildPyWithBundle})
