"""The coverage machinery: check_grads records what it ran, the suite's guard fails on untested rules, the coverage
table and docs/coverage.md, and opt-in finite-difference rules (def_numerical_vjp)."""

import sys
import textwrap
import types
import warnings
from pathlib import Path

import numpy as onp
import pytest

import gradviz.numpy as np
from gradviz import grad, test_util
from gradviz.__main__ import main as cli_main
from gradviz.core.forward import make_jvp
from gradviz.core.tracer import Primitive, notrace_primitive
from gradviz.coverage import (
    _autograd_status,
    claimed_rules,
    coverage_rows,
    format_markdown,
    rule_modes,
    status,
    untested_rules,
)
from gradviz.extend import NumericalDerivativeWarning, def_numerical_vjp, defjvp, defvjp, primitive
from gradviz.test_util import check_grads

pytest_plugins = ["pytester"]

DOC = Path(__file__).resolve().parent.parent / "docs" / "coverage.md"


# --- check_grads records the primitives it exercised

def test_check_grads_records_each_primitive_per_mode_and_order():
    @primitive
    def cube_recorded(x):
        return x ** 3

    defvjp(cube_recorded, lambda ans, x: lambda g: 3 * g * x ** 2)
    defjvp(cube_recorded, lambda g, ans, x: 3 * g * x ** 2)
    name = cube_recorded.qualname
    check_grads(lambda x: np.sum(cube_recorded(x)), modes=("rev",), order=2)(onp.array([0.5, -1.5]))
    assert (name, "rev", 1) in test_util.exercised
    # At order 2 the backward pass differentiates cube's VJP, 3 * g * x ** 2, not cube itself.
    assert (name, "rev", 2) not in test_util.exercised
    assert ("numpy.power", "rev", 2) in test_util.exercised
    assert not {entry for entry in test_util.exercised if entry[0] == name and entry[1] == "fwd"}
    check_grads(cube_recorded, modes=("fwd",), order=1)(onp.array([0.5, -1.5]))
    assert (name, "fwd", 1) in test_util.exercised
    assert (name, "fwd", 2) not in test_util.exercised


def test_a_primitive_off_the_differentiated_path_is_not_recorded():
    @primitive
    def side_branch(x):
        return x * 2.0

    defvjp(side_branch, lambda ans, x: lambda g: 2.0 * g)
    defjvp(side_branch, lambda g, ans, x: 2.0 * g)

    def f(x):
        side_branch(x)  # computed, but the output does not depend on it: its rule never runs in reverse mode
        return np.sin(x)

    check_grads(f, modes=("rev",), order=1)(onp.array([0.3]))
    assert ("numpy.sin", "rev", 1) in test_util.exercised
    assert not {entry for entry in test_util.exercised if entry[0] == side_branch.qualname}


# --- which rules are claimed, and which are untested

def _module_with_rules(monkeypatch, name):
    module = types.ModuleType(name)

    @primitive
    def both(x):
        return x * 2.0

    @primitive
    def rev_only(x):
        return x * 3.0

    @primitive
    def fwd_only(x):
        return x * 4.0

    @primitive
    def none(x):
        return x * 5.0

    defvjp(both, lambda ans, x: lambda g: 2.0 * g)
    defjvp(both, lambda g, ans, x: 2.0 * g)
    defvjp(rev_only, lambda ans, x: lambda g: 3.0 * g)
    defjvp(fwd_only, lambda g, ans, x: 4.0 * g)
    constant = notrace_primitive(onp.floor)
    for fun in (both, rev_only, fwd_only, none):
        fun.qualname = f"{name}.{fun.__name__}"
    module.both, module.rev_only, module.fwd_only, module.none, module._constant = \
        both, rev_only, fwd_only, none, constant
    monkeypatch.setitem(sys.modules, name, module)
    return module


def test_status_and_claimed_rules_follow_the_rule_tables(monkeypatch):
    module = _module_with_rules(monkeypatch, "fake_rules_a")
    assert [status(f) for f in (module.both, module.rev_only, module.fwd_only, module.none, module._constant)] == \
        ["VJP+JVP", "VJP only", "JVP only", "no rule", "constant"]
    assert status(lambda x: x) == "composite"
    assert rule_modes(module.both) == {"rev", "fwd"}
    assert claimed_rules(["fake_rules_a"]) == {
        ("fake_rules_a.both", "rev"), ("fake_rules_a.both", "fwd"), ("fake_rules_a.rev_only", "rev"),
        ("fake_rules_a.fwd_only", "fwd")}


def test_untested_rules_ignore_the_order_but_not_the_mode():
    claimed = {("m.f", "rev"), ("m.f", "fwd"), ("m.g", "rev")}
    assert untested_rules(claimed, {("m.f", "rev", 2), ("m.g", "fwd", 1)}) == [("m.f", "fwd"), ("m.g", "rev")]
    assert untested_rules(claimed, [["m.f", "rev", 1], ["m.f", "fwd", 1], ["m.g", "rev", 2]]) == []


# --- the guard, run on a tiny project

TINY_RULES = """
    from gradviz.extend import defjvp, defvjp, primitive

    @primitive
    def cube(x):
        return x ** 3

    defvjp(cube, lambda ans, x: lambda g: 3 * g * x ** 2)
    defjvp(cube, lambda g, ans, x: 3 * g * x ** 2)
"""
UNTESTED_RULE = """
    @primitive
    def double(x):
        return 2.0 * x

    defvjp(double, lambda ans, x: lambda g: 2.0 * g)
    defjvp(double, lambda g, ans, x: 2.0 * g)
"""
TINY_CONFTEST = """
    from pathlib import Path

    from gradviz.coverage import rule_coverage_plugin

    def pytest_configure(config):
        config.pluginmanager.register(rule_coverage_plugin(["tinyrules"], Path(__file__).parent), "rule-coverage")
"""
TINY_TESTS = {
    "test_cube": """
        import numpy as onp
        from gradviz.test_util import check_grads
        from tinyrules import cube

        def test_cube():
            check_grads(cube, modes=("fwd", "rev"), order=2)(onp.array([0.5, -1.0]))
    """,
    "test_other": """
        def test_unrelated():
            assert 1 + 1 == 2
    """,
}


@pytest.fixture
def tiny(pytester, monkeypatch):
    """A project with its own rule module and the guard; in-process runs must not see the outer suite's record."""
    monkeypatch.delenv("GRADVIZ_COVERAGE", raising=False)
    saved = set(test_util.exercised)
    test_util.exercised.clear()

    def make(untested: bool):
        rules = textwrap.dedent(TINY_RULES) + (textwrap.dedent(UNTESTED_RULE) if untested else "")
        pytester.makepyfile(tinyrules=rules, conftest=textwrap.dedent(TINY_CONFTEST),
                            **{name: textwrap.dedent(body) for name, body in TINY_TESTS.items()})
        return pytester

    yield make
    test_util.exercised.clear()
    test_util.exercised.update(saved)


def test_guard_passes_when_every_rule_is_exercised(tiny):
    result = tiny(untested=False).runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*every VJP and JVP rule was exercised*"])


def test_guard_fails_a_full_run_naming_the_untested_rule(tiny):
    result = tiny(untested=True).runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*2 rule(s) that no check_grads call exercised*", "*tinyrules.double ?fwd?",
                                 "*tinyrules.double ?rev?"])
    assert "tinyrules.cube [" not in result.stdout.str()


def test_guard_reports_without_failing_when_asked(tiny, monkeypatch):
    monkeypatch.setenv("GRADVIZ_COVERAGE", "report")
    result = tiny(untested=True).runpytest_inprocess("-p", "no:cacheprovider")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*tinyrules.double ?rev?"])


@pytest.mark.parametrize("selection", [["-k", "cube"], ["test_cube.py"], ["test_cube.py::test_cube"]])
def test_guard_does_not_judge_a_partial_run(tiny, monkeypatch, selection):
    monkeypatch.setenv("GRADVIZ_COVERAGE", "report")
    result = tiny(untested=True).runpytest_inprocess("-p", "no:cacheprovider", *selection)
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*rule coverage not checked: partial run*"])
    assert "tinyrules.double" not in result.stdout.str()


def test_guard_under_xdist_gathers_the_workers_records(tiny):
    # Two workers share the two test files; the controller joins their records: cube, checked on one worker, is
    # covered, and double, checked on neither, fails the run.
    result = tiny(untested=True).runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    assert result.ret == 1, result.stdout.str()
    result.stdout.fnmatch_lines(["*2 passed*"])
    result.stdout.fnmatch_lines(["*2 rule(s) that no check_grads call exercised*", "*tinyrules.double ?fwd?",
                                 "*tinyrules.double ?rev?"])
    assert "tinyrules.cube [" not in result.stdout.str()


# --- the coverage table

def test_coverage_table_statuses_match_the_rules():
    rows = {(row.namespace, row.name): row for row in coverage_rows(with_autograd=False)}
    assert rows["numpy", "sin"].status == "VJP+JVP"
    assert rows["numpy", "floor"].status == "constant"
    assert rows["numpy", "hstack"].status == "composite"
    assert rows["numpy", "concatenate"].status == "VJP+JVP"  # the Python wrapper takes its primitive's status
    assert all(row.autograd is None for row in rows.values())
    assert {namespace for namespace, _ in rows} >= {"numpy", "numpy.linalg", "numpy.fft"}
    for (namespace, name), row in rows.items():
        module = {"numpy": np, "numpy.linalg": np.linalg, "numpy.fft": np.fft}.get(namespace)
        if module is not None and isinstance(getattr(module, name), Primitive):
            assert status(getattr(module, name)) == row.status


def test_autograd_column_says_what_autograd_does():
    assert _autograd_status("autograd.numpy", "sin") == "VJP"
    assert _autograd_status("autograd.numpy", "floor") == "constant"
    assert _autograd_status("autograd.numpy", "concatenate") == "composite"
    assert _autograd_status("autograd.numpy", "no_such_function") == "absent"
    assert _autograd_status("autograd.scipy.stats", "norm.logpdf") == "VJP"


def _function_rows(markdown: str) -> dict[str, str]:
    """function -> its table row, for every function row of a coverage document."""
    return {line.split("|")[1].strip(): line for line in markdown.splitlines() if line.startswith("| `")}


def _generated_with(markdown: str) -> str:
    return next(line for line in markdown.splitlines() if line.startswith("Generated by"))


def test_docs_coverage_md_is_up_to_date():
    """The committed table is the one gradviz makes now. It was made with particular NumPy, SciPy and autograd
    versions (its header says which); with those installed it must match to the byte, and with others every
    function both versions have must have the same row (their namespaces differ, the rules must not)."""
    expected = format_markdown(coverage_rows())
    stale = "docs/coverage.md is out of date: regenerate it with `python -m gradviz coverage --write docs/coverage.md`"
    assert DOC.exists(), stale
    committed = DOC.read_text(encoding="utf-8")
    if _generated_with(committed) == _generated_with(expected):
        assert committed == expected, stale
    else:
        now, then = _function_rows(expected), _function_rows(committed)
        shared = now.keys() & then.keys()
        assert len(shared) > 0.9 * len(then), "most functions should exist in both NumPy/SciPy versions"
        assert {f: now[f] for f in shared} == {f: then[f] for f in shared}, stale


def test_cli_prints_the_table_and_writes_the_markdown(capsys, tmp_path):
    assert cli_main(["coverage"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[2].split()[:2] == ["namespace", "VJP+JVP"]
    assert any(line.split()[:2] == ["numpy.sin", "VJP+JVP"] for line in out.splitlines())
    target = tmp_path / "docs" / "coverage.md"
    assert cli_main(["coverage", "--write", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == format_markdown(coverage_rows())
    assert "## Summary" in target.read_text(encoding="utf-8")


# --- def_numerical_vjp

def _ruleless():
    @primitive
    def wave(x, y):
        return onp.sin(x) * y ** 2

    return wave


def test_numerical_rules_are_off_until_asked():
    wave = _ruleless()
    with pytest.raises(NotImplementedError, match="has no VJP"):
        grad(wave)(onp.array([0.3, 1.1]), 2.0)
    with pytest.raises(NotImplementedError, match="has no JVP"):
        make_jvp(lambda x: wave(x, 2.0), onp.array([0.3, 1.1]))(onp.ones(2))


def test_numerical_vjp_and_jvp_match_the_closed_form():
    wave = _ruleless()
    def_numerical_vjp(wave, argnums=(0, 1))
    x, y = onp.array([0.3, -1.1, 2.0]), onp.array([2.0, 0.5, -1.5])
    loss = lambda x, y: np.sum(wave(x, y))  # noqa: E731
    with pytest.warns(NumericalDerivativeWarning, match="slow .* approximate"):
        gx = grad(loss)(x, y)
    onp.testing.assert_allclose(gx, onp.cos(x) * y ** 2, rtol=1e-6)
    onp.testing.assert_allclose(grad(loss, 1)(x, y), 2 * onp.sin(x) * y, rtol=1e-6)
    v = onp.array([1.0, -2.0, 0.5])
    onp.testing.assert_allclose(make_jvp(lambda x: wave(x, y), x)(v)[1], onp.cos(x) * y ** 2 * v, rtol=1e-6)
    # Order 1: the finite-difference rules are first-order by design (their own derivative raises, below).
    check_grads(wave, 0, modes=("fwd", "rev"), order=1)(x, y)
    check_grads(wave, 1, modes=("fwd", "rev"), order=1)(x, y)


def test_numerical_rules_warn_once_per_primitive():
    wave = _ruleless()
    def_numerical_vjp(wave)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        grad(lambda x: np.sum(wave(x, 2.0)))(onp.array([0.3, 0.4]))
        grad(lambda x: np.sum(wave(x, 2.0)))(onp.array([0.3, 0.4]))
    assert len([w for w in caught if issubclass(w.category, NumericalDerivativeWarning)]) == 1


@pytest.mark.filterwarnings("ignore::gradviz.extend.NumericalDerivativeWarning")
def test_numerical_vjp_complex_and_float32():
    wave = _ruleless()
    def_numerical_vjp(wave)
    z = onp.array([0.3 + 0.2j, -1.0 + 0.5j])
    # Re(sum(4 sin(z))): the gradient df/dx - i df/dy of a holomorphic function's real part is 4 cos(z).
    g = grad(lambda z: np.real(np.sum(wave(z, 2.0))))(z)
    onp.testing.assert_allclose(g, 4 * onp.cos(z), rtol=1e-6)
    check_grads(wave, modes=("fwd", "rev"), order=1)(z, 2.0)
    x32 = onp.array([0.3, 1.2], dtype=onp.float32)
    g32 = grad(lambda x: np.sum(wave(x, onp.float32(2.0))))(x32)
    assert g32.dtype == onp.float32
    onp.testing.assert_allclose(g32, 4 * onp.cos(x32), rtol=1e-2)


@pytest.mark.filterwarnings("ignore::gradviz.extend.NumericalDerivativeWarning")
def test_numerical_rules_are_first_order_only():
    wave = _ruleless()
    def_numerical_vjp(wave)
    with pytest.raises(NotImplementedError, match="numerical_vjp has no VJP"):
        grad(lambda x: grad(lambda x: np.sum(wave(x, 2.0)))(x)[0])(onp.array([0.3, 0.4]))


def test_def_numerical_vjp_needs_a_primitive():
    with pytest.raises(TypeError, match="not a primitive"):
        def_numerical_vjp(lambda x: x)
