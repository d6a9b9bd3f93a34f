"""Which functions gradviz differentiates, and which of its rules the test suite really checks.

Two tools share this module:

- the coverage table (``python -m gradviz coverage``): every wrapped function of gradviz.numpy and gradviz.scipy
  with its status (VJP+JVP, VJP only, JVP only, constant, no rule) and, when autograd is installed, what autograd
  does with it, so that a user switching from autograd sees at once what is there;
- the rule-coverage guard, a pytest plugin (``rule_coverage_plugin``): at the end of a run of the whole suite it
  fails the session when a primitive claims a VJP or a JVP that no ``check_grads`` call ever ran in that mode.
  A rule that no test runs is a rule nobody knows to be right.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
import types
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .core.backward import VJPNode, has_vjp
from .core.forward import JVPNode, has_jvp
from .core.tracer import NoTracePrimitive, Primitive

__all__ = [
    "STATUSES", "NAMESPACES", "GUARDED_MODULES", "Row", "rule_modes", "status", "primitives_in", "claimed_rules",
    "untested_rules", "coverage_rows", "format_text", "format_markdown", "rule_coverage_plugin",
]

STATUSES = ("VJP+JVP", "VJP only", "JVP only", "constant", "composite", "no rule")

# The namespaces of the table: (name shown, gradviz module, the library module it mirrors, autograd's module).
NAMESPACES = (
    ("numpy", "gradviz.numpy", "numpy", "autograd.numpy"),
    ("numpy.linalg", "gradviz.numpy.linalg", "numpy.linalg", "autograd.numpy.linalg"),
    ("numpy.fft", "gradviz.numpy.fft", "numpy.fft", "autograd.numpy.fft"),
    ("scipy.special", "gradviz.scipy.special", "scipy.special", "autograd.scipy.special"),
    ("scipy.linalg", "gradviz.scipy.linalg", "scipy.linalg", "autograd.scipy.linalg"),
    ("scipy.signal", "gradviz.scipy.signal", "scipy.signal", "autograd.scipy.signal"),
    ("scipy.integrate", "gradviz.scipy.integrate", "scipy.integrate", "autograd.scipy.integrate"),
    ("scipy.stats", "gradviz.scipy.stats", "scipy.stats", "autograd.scipy.stats"),
)
_RECURSE = {"scipy.stats"}  # namespaces whose submodules are part of them (stats.norm.pdf)

# Where the guard looks for primitives that claim rules (packages are walked with all their submodules).
GUARDED_MODULES = ("gradviz.numpy", "gradviz.scipy", "gradviz.core.containers")

_MAX_ARGNUM = 32  # has_vjp / has_jvp are asked about argnums 0.._MAX_ARGNUM - 1


# --- which rules a primitive has

def rule_modes(fun: Primitive) -> frozenset[str]:
    """The modes in which ``fun`` claims a rule: "rev" (a VJP for some argument) and/or "fwd" (a JVP)."""
    modes = set()
    if any(has_vjp(fun, argnum) for argnum in range(_MAX_ARGNUM)):
        modes.add("rev")
    if any(has_jvp(fun, argnum) for argnum in range(_MAX_ARGNUM)):
        modes.add("fwd")
    return frozenset(modes)


def status(fun: Any) -> str:
    """One of STATUSES: a primitive by its rules, a plain Python function of a namespace as "composite"."""
    if isinstance(fun, NoTracePrimitive):
        return "constant"
    if not isinstance(fun, Primitive):
        return "composite"
    modes = rule_modes(fun)
    rev = "rev" in modes or fun in VJPNode.notrace
    fwd = "fwd" in modes or fun in JVPNode.notrace
    if rev and fwd:
        return "VJP+JVP"
    return "VJP only" if rev else "JVP only" if fwd else "no rule"


def _modules_under(names: Iterable[str]) -> list[types.ModuleType]:
    """The modules ``names``, and for packages every submodule, imported."""
    modules = []
    for name in names:
        module = importlib.import_module(name)
        modules.append(module)
        for info in pkgutil.walk_packages(getattr(module, "__path__", []), prefix=f"{name}."):
            modules.append(importlib.import_module(info.name))
    return modules


def primitives_in(module_names: Iterable[str]) -> dict[str, Primitive]:
    """qualname -> primitive for every primitive reachable from the modules (private names and classes too)."""
    found: dict[str, Primitive] = {}
    for module in _modules_under(module_names):
        values = list(vars(module).values())
        for value in list(values):
            if isinstance(value, type) and value.__module__ == module.__name__:
                values.extend(vars(value).values())
        for value in values:
            if isinstance(value, Primitive):
                found.setdefault(value.qualname, value)
    return found


def claimed_rules(module_names: Iterable[str]) -> set[tuple[str, str]]:
    """(qualname, mode) for every traced primitive of the modules that has a rule in that mode."""
    return {(name, mode) for name, fun in primitives_in(module_names).items()
            if not isinstance(fun, NoTracePrimitive) for mode in rule_modes(fun)}


def untested_rules(claimed: Iterable[tuple[str, str]], exercised: Iterable[Sequence]) -> list[tuple[str, str]]:
    """The claimed (qualname, mode) pairs that no check_grads run exercised, at any order."""
    ran = {(entry[0], entry[1]) for entry in exercised}
    return sorted(set(claimed) - ran)


# --- the coverage table

@dataclass(frozen=True)
class Row:
    namespace: str
    name: str
    status: str
    autograd: str | None  # None when autograd is not installed


def _lookup(root: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        root = getattr(root, part, None)
    return root


def _public_functions(module: types.ModuleType, mirror: Any, recurse: bool,
                      prefix: str = "") -> Iterable[tuple[str, Any]]:
    """(name, function) for the functions of a gradviz namespace that mirror a function of the library's module.

    Helpers a namespace imports (defvjp, shape_of, ...) have no counterpart in the library and are left out;
    with ``recurse``, the namespace's own submodules are included (stats.norm.pdf).
    """
    for name, value in sorted(vars(module).items()):
        if name.startswith("_"):
            continue
        counterpart = _lookup(mirror, prefix + name)
        if counterpart is None:
            continue
        if isinstance(value, types.ModuleType):
            if recurse and value.__name__.startswith(module.__name__ + "."):
                yield from _public_functions(value, mirror, recurse, f"{prefix}{name}.")
            continue
        if isinstance(value, (Primitive, types.FunctionType)):
            yield prefix + name, value


def _autograd_status(module_name: str, name: str) -> str:
    """What autograd 1.9.1 does with the function of the same name: VJP, no VJP, constant, composite or absent."""
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError:
        return "absent"
    obj = _lookup(obj, name)
    if obj is None or not callable(obj):
        return "absent"
    from autograd.core import VJPNode as AutogradVJPNode
    from autograd.core import primitive_vjps
    from autograd.tracer import notrace_primitives

    if getattr(obj, "_is_primitive", False) or obj in notrace_primitives[AutogradVJPNode]:
        return "constant"
    if getattr(obj, "_is_autograd_primitive", False):
        return "VJP" if obj in primitive_vjps else "no VJP"
    return "composite"


def _autograd_available() -> bool:
    try:
        import autograd.core  # noqa: F401
    except ImportError:
        return False
    return True


def coverage_rows(with_autograd: bool | None = None) -> list[Row]:
    """A row for every wrapped function of the NAMESPACES; the autograd column only where autograd imports."""
    if with_autograd is None:
        with_autograd = _autograd_available()
    importlib.import_module("gradviz.scipy")
    by_qualname = primitives_in(GUARDED_MODULES)
    rows = []
    for shown, module_name, mirror_name, autograd_name in NAMESPACES:
        module, mirror = importlib.import_module(module_name), importlib.import_module(mirror_name)
        for name, fun in _public_functions(module, mirror, shown in _RECURSE):
            if not isinstance(fun, Primitive):  # a Python wrapper of a primitive of the same name (concatenate)
                fun = by_qualname.get(f"{shown}.{getattr(fun, '__name__', name)}", fun)
            autograd = _autograd_status(autograd_name, name) if with_autograd else None
            rows.append(Row(shown, name, status(fun), autograd))
    return rows


def _summary(rows: Sequence[Row]) -> tuple[list[str], list[list[str]]]:
    """Counts per namespace per status (and, with autograd, the functions autograd differentiates and we don't)."""
    header = ["namespace", *STATUSES, "total"]
    with_autograd = bool(rows) and rows[0].autograd is not None
    if with_autograd:
        header += ["autograd VJP", "autograd VJP, gradviz none"]
    body = []
    for shown in (*(namespace[0] for namespace in NAMESPACES), "all"):
        mine = [row for row in rows if shown == "all" or row.namespace == shown]
        counts = Counter(row.status for row in mine)
        line = [shown, *(str(counts[s]) for s in STATUSES), str(len(mine))]
        if with_autograd:
            theirs = [row for row in mine if row.autograd == "VJP"]
            line += [str(len(theirs)), str(sum(row.status in ("no rule", "JVP only") for row in theirs))]
        body.append(line)
    return header, body


def _versions() -> str:
    import numpy
    import scipy

    versions = f"NumPy {numpy.__version__}, SciPy {scipy.__version__}"
    if _autograd_available():
        from importlib.metadata import version

        versions += f", autograd {version('autograd')}"
    return versions


_LEGEND = (
    "Statuses: **VJP+JVP** reverse and forward mode; **VJP only** / **JVP only** one mode (the other raises "
    "NotImplementedError); **constant** no-trace, the output is a constant (comparisons, argmax, floor, ...); "
    "**composite** a Python function built from other primitives (differentiable where they are); **no rule** "
    "raises NotImplementedError on a traced value (`gradviz.extend.def_numerical_vjp` can give it slow, "
    "approximate finite-difference rules). The autograd column says what autograd 1.9.1 does with the function "
    "of the same name: VJP, no VJP, constant, composite, or absent."
)


def format_markdown(rows: Sequence[Row]) -> str:
    """The Markdown document docs/coverage.md: summary counts, then one table per namespace."""
    def table(header: Sequence[str], body: Iterable[Sequence[str]]) -> list[str]:
        return ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|",
                *("| " + " | ".join(line) + " |" for line in body)]

    with_autograd = bool(rows) and rows[0].autograd is not None
    lines = ["# Coverage: what gradviz differentiates", "",
             "Generated by `python -m gradviz coverage --write docs/coverage.md` (do not edit by hand) with "
             f"{_versions()}.", "", _LEGEND, "", "## Summary", ""]
    lines += table(*_summary(rows))
    for shown, *_ in NAMESPACES:
        mine = [row for row in rows if row.namespace == shown]
        lines += ["", f"## {shown}", ""]
        if not mine:
            lines.append("No functions wrapped yet.")
            continue
        header = ["function", "gradviz"] + (["autograd 1.9.1"] if with_autograd else [])
        lines += table(header, ([f"`{shown}.{row.name}`", row.status] + ([row.autograd] if with_autograd else [])
                                for row in mine))
    return "\n".join(lines) + "\n"


def format_text(rows: Sequence[Row]) -> str:
    """The table for a terminal: the summary, then one aligned line per function."""
    def aligned(lines: Sequence[Sequence[str]]) -> list[str]:
        widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
        return ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in lines]

    header, body = _summary(rows)
    out = [f"gradviz coverage ({_versions()})", "", *aligned([header, *body]), ""]
    with_autograd = bool(rows) and rows[0].autograd is not None
    columns = ["function", "gradviz"] + (["autograd 1.9.1"] if with_autograd else [])
    lines = [[f"{row.namespace}.{row.name}", row.status] + ([row.autograd] if with_autograd else []) for row in rows]
    out += aligned([columns, *lines])
    return "\n".join(out) + "\n"


# --- the rule-coverage guard (a pytest plugin)

COVERAGE_ENV = "GRADVIZ_COVERAGE"  # unset or "fail": fail a full run; "report": only print; "off": do nothing


def rule_coverage_plugin(modules: Sequence[str] = GUARDED_MODULES,
                         tests_dir: str | os.PathLike | None = None) -> Any:
    """A pytest plugin object failing a full run of the tests in ``tests_dir`` on untested rules of ``modules``.

    A run is full when every ``test_*.py`` under ``tests_dir`` contributed tests, nothing was deselected (-k, -m,
    --deselect, --lf) and no test was picked by node id. Under pytest-xdist each worker sends the primitives its
    check_grads calls ran, and whether its collection was full, to the controller, which decides. Register it
    from a conftest.py: ``config.pluginmanager.register(rule_coverage_plugin(tests_dir=...), "rule-coverage")``.
    """
    import pytest

    from . import test_util

    tests_path = Path(tests_dir) if tests_dir is not None else None

    class RuleCoverageGuard:
        def __init__(self) -> None:
            self.partial: set[str] = set()  # why this run is not a full run (empty: it is)
            self.exercised: set[tuple] = set()
            self.workers = 0
            self.untested: list[tuple[str, str]] | None = None
            self.note = ""

        @staticmethod
        def _mode() -> str:
            return os.environ.get(COVERAGE_ENV, "fail").strip().lower() or "fail"

        def pytest_configure(self, config: Any) -> None:
            option = config.option
            if getattr(option, "keyword", ""):
                self.partial.add("-k selects tests")
            if getattr(option, "markexpr", ""):
                self.partial.add("-m selects tests")
            if getattr(option, "collectonly", False):
                self.partial.add("--collect-only")
            if any("::" in str(arg) for arg in config.args):
                self.partial.add("tests picked by node id")

        def pytest_deselected(self, items: Sequence[Any]) -> None:
            if items:
                self.partial.add("tests were deselected")

        def pytest_collection_finish(self, session: Any) -> None:
            if tests_path is None:
                return
            collected = {Path(str(item.path)).resolve() for item in session.items}
            expected = {path.resolve() for path in tests_path.rglob("test_*.py") if "__pycache__" not in path.parts}
            missing = expected - collected
            if missing:
                names = ", ".join(sorted(path.name for path in missing)[:3]) + (", ..." if len(missing) > 3 else "")
                self.partial.add(f"not every test file ran ({names})")

        @pytest.hookimpl(optionalhook=True)
        def pytest_testnodedown(self, node: Any, error: Any) -> None:
            self.workers += 1
            output = getattr(node, "workeroutput", None) or {}
            report = output.get("gradviz_rule_coverage")
            if error or report is None:
                self.partial.add("a worker did not report")
                return
            self.exercised.update(tuple(entry) for entry in report["exercised"])
            self.partial.update(report["partial"])

        @pytest.hookimpl(tryfirst=True)
        def pytest_sessionfinish(self, session: Any, exitstatus: Any) -> None:
            config = session.config
            if self._mode() == "off":
                return
            if hasattr(config, "workerinput"):  # an xdist worker: the controller decides
                config.workeroutput["gradviz_rule_coverage"] = {
                    "exercised": sorted(test_util.exercised), "partial": sorted(self.partial)}
                return
            controller = getattr(config.option, "dist", "no") != "no" and getattr(config.option, "numprocesses", 0)
            if controller:
                if self.workers == 0:
                    self.partial.add("no worker reported")
            else:
                self.exercised = set(test_util.exercised)
            if self.partial:
                self.note = f"rule coverage not checked: partial run ({'; '.join(sorted(self.partial))})"
                return
            if exitstatus != 0:
                self.note = "rule coverage not checked: the tests did not all pass"
                return
            self.untested = untested_rules(claimed_rules(modules), self.exercised)
            if self.untested and self._mode() != "report":
                session.exitstatus = pytest.ExitCode.TESTS_FAILED

        def pytest_terminal_summary(self, terminalreporter: Any) -> None:
            write = terminalreporter.write_line
            if self.note and (not self.partial or self._mode() == "report" or config_verbose(terminalreporter)):
                write(self.note)  # a partial run is the everyday case: it says so only when asked
            if self.untested is None:
                return
            if not self.untested:
                write("rule coverage: every VJP and JVP rule was exercised by check_grads")
                return
            failing = self._mode() != "report"
            terminalreporter.section("gradviz rule coverage", sep="=", red=failing, yellow=not failing, bold=True)
            write(f"{len(self.untested)} rule(s) that no check_grads call exercised (rev = VJP, fwd = JVP):")
            for name, mode in self.untested:
                write(f"  {name} [{mode}]")
            if failing:
                write(f"Test each with gradviz.test_util.check_grads(..., modes=('fwd', 'rev')). Set {COVERAGE_ENV}="
                      "report to list them without failing.")

    def config_verbose(terminalreporter: Any) -> bool:
        return terminalreporter.config.option.verbose > 0

    return RuleCoverageGuard()


def main(write: str | None = None) -> int:
    """``python -m gradviz coverage [--write PATH]``: print the table, or write it as Markdown."""
    rows = coverage_rows()
    if write is None:
        sys.stdout.write(format_text(rows))
        return 0
    Path(write).parent.mkdir(parents=True, exist_ok=True)
    Path(write).write_text(format_markdown(rows), encoding="utf-8")
    print(f"wrote {write}: {len(rows)} functions")
    return 0
