"""The IPython magics ``%gradviz`` and ``%%gradviz``, run in a real IPython shell.

Each test checks what was traced (the function, the argument, the gradient against a closed form or finite
differences), what was shown, and that a misuse raises a UsageError that says what to write instead.
"""

import numpy as onp
import pytest
from IPython.core.error import UsageError
from IPython.core.getipython import get_ipython
from IPython.testing.globalipapp import start_ipython

import gradviz.numpy as np
from gradviz import Trace
from gradviz.render import magic


@pytest.fixture
def ip():
    start_ipython()  # once per process: the shell IPython's own tests use
    shell = get_ipython()
    shell.reset(new_session=False)
    shell.run_line_magic("load_ext", "gradviz")
    shell.push({"np": np, "onp": onp})
    return shell


@pytest.fixture
def shown(monkeypatch):
    """What the magic displayed itself, in order: the debugger's reports (the trace is its value)."""
    objects = []
    monkeypatch.setattr(magic, "display", objects.append)
    return objects


def numeric_grad(f, x, eps=1e-6):
    """Central differences of the scalar function ``f`` at the float array ``x``."""
    x = onp.array(x, dtype=float)
    g = onp.zeros_like(x)
    for i in onp.ndindex(x.shape):
        step = onp.zeros_like(x)
        step[i] = eps
        g[i] = (f(x + step) - f(x - step)) / (2 * eps)
    return g


def define_layer(ip):
    ip.run_cell(
        "def f(x, W):\n"
        "    h = np.tanh(np.dot(x, W))\n"
        "    return np.sum(h ** 2)\n"
        "x = onp.array([[1.0, -2.0, 0.5]])\n"
        "W = onp.array([[0.3, -0.1], [0.2, 0.4], [-0.5, 0.25]])\n",
        store_history=False,
    ).raise_error()


def test_line_magic_traces_grad_in_the_first_argument(ip, shown):
    define_layer(ip)
    t = ip.run_line_magic("gradviz", "f(x, W)")
    assert isinstance(t, Trace)
    assert shown == []
    assert t.function == "f" and t.argnum == 0
    x, W = ip.user_ns["x"], ip.user_ns["W"]
    h = onp.tanh(x @ W)
    assert onp.allclose(t.value, onp.sum(h ** 2))
    # d/dx sum(tanh(x W)^2) = (2 h (1 - h^2)) W^T
    assert onp.allclose(t.grad, (2 * h * (1 - h ** 2)) @ W.T)
    primitives = {node.primitive for node in t.nodes}
    assert {"numpy.dot", "numpy.tanh", "numpy.sum"} <= primitives


def test_argnum_and_out_pick_the_argument_and_the_variable(ip, shown):
    define_layer(ip)
    returned = ip.run_line_magic("gradviz", "--argnum 1 --out t f(x, W)")
    t = ip.user_ns["t"]
    assert returned is t
    assert t.argnum == 1
    x, W = ip.user_ns["x"], ip.user_ns["W"]
    expected = numeric_grad(lambda w: onp.sum(onp.tanh(x @ w) ** 2), W)
    assert t.grad.shape == W.shape
    assert onp.allclose(t.grad, expected, atol=1e-7)
    again = ip.run_line_magic("gradviz", "--argnum=-1 f(x, W)")  # the same argument, counted from the end
    assert again.argnum == 1 and onp.allclose(again.grad, expected, atol=1e-7)


def test_the_call_may_use_keywords_star_args_and_expressions(ip, shown):
    ip.run_cell(
        "def g(a, b, scale=1.0):\n"
        "    return scale * np.sum(np.sin(a) * b)\n"
        "pair = (onp.array([0.1, 0.7]), onp.array([2.0, -1.0]))\n",
        store_history=False,
    ).raise_error()
    t = ip.run_line_magic("gradviz", "--argnum 1 g(*pair, scale=0.5 * 6)")
    a, b = ip.user_ns["pair"]
    assert t.function == "g"
    assert onp.allclose(t.grad, 3.0 * onp.sin(a))  # d/db 3 sum(sin(a) b) = 3 sin(a)
    t = ip.run_line_magic("gradviz", "g( pair[0] ,  pair[1] , scale = 2.0)")  # spaces inside the call are kept
    assert onp.allclose(t.grad, 2.0 * onp.cos(a) * b)


def test_keywords_named_like_traces_own_options_go_to_the_function(ip, shown):
    ip.run_cell("def h(x, backward=1.0, argnum=0.0):\n    return backward * np.sum(x ** 2) + argnum\n",
                store_history=False).raise_error()
    ip.push({"x0": onp.array([1.0, -3.0])})
    t = ip.run_line_magic("gradviz", "h(x0, backward=5.0, argnum=7.0)")
    assert t.function == "h" and t.argnum == 0
    assert onp.isclose(t.value, 5.0 * 10.0 + 7.0)
    assert onp.allclose(t.grad, 10.0 * ip.user_ns["x0"])


def test_cell_magic_traces_the_last_expression_as_a_function_of_wrt(ip, shown):
    define_layer(ip)
    cell = "h = np.dot(x, W)\nr = np.tanh(h)\nnp.sum(r ** 2) + 0.5 * np.sum(W ** 2)\n"
    t = ip.run_cell_magic("gradviz", "--wrt W", cell)
    assert t.function == "cell" and t.argnum == 0
    x, W = ip.user_ns["x"], ip.user_ns["W"]
    r = onp.tanh(x @ W)
    assert onp.allclose(t.value, onp.sum(r ** 2) + 0.5 * onp.sum(W ** 2))
    assert onp.allclose(t.grad, x.T @ (2 * r * (1 - r ** 2)) + W)
    # The cell's names stay local: tracing it assigns nothing in the notebook.
    assert "h" not in ip.user_ns and "r" not in ip.user_ns
    # Each node points at the cell's own line, with its code.
    tanh = next(node for node in t.nodes if node.primitive == "numpy.tanh")
    assert tanh.site.line == 2 and tanh.code == "r = np.tanh(h)"


def test_cell_magic_in_several_variables(ip, shown):
    ip.push({"a": onp.array([1.0, 2.0]), "b": onp.array([0.5, -3.0])})
    ip.run_cell_magic("gradviz", "--wrt a,b --out both", "np.sum(a * b ** 2)")
    t = ip.user_ns["both"]
    grad_a, grad_b = t.grad
    assert onp.allclose(grad_a, ip.user_ns["b"] ** 2)
    assert onp.allclose(grad_b, 2 * ip.user_ns["a"] * ip.user_ns["b"])


class FakeWidget:
    def __init__(self, options):
        self.options = options

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"application/vnd.jupyter.widget-view+json": {"options": self.options}, "text/plain": "a widget"}


def test_view_and_budget_go_to_the_widget_in_a_notebook(ip, shown, monkeypatch):
    define_layer(ip)
    monkeypatch.setattr(Trace, "widget", lambda self, **options: FakeWidget(options))
    monkeypatch.setattr(ip, "kernel", object(), raising=False)  # as in a Jupyter kernel
    t = ip.run_line_magic("gradviz", "--view backward --budget 40 f(x, W)")
    data, _ = ip.display_formatter.format(t)
    assert data["application/vnd.jupyter.widget-view+json"] == {"options": {"view": "backward", "budget": 40}}
    assert data["text/plain"] == repr(t)
    assert shown == []
    # Only that trace: another one displays as usual.
    other = ip.run_line_magic("gradviz", "f(x, W)")
    assert "_repr_mimebundle_" not in vars(other)


def test_in_a_terminal_the_trace_shows_as_its_listing(ip, shown, monkeypatch):
    define_layer(ip)
    monkeypatch.setattr(Trace, "widget", lambda self, **options: pytest.fail("no widget in a terminal"))
    for line in ("--view backward f(x, W)", "f(x, W)"):
        t = ip.run_line_magic("gradviz", line)
        data, _ = ip.display_formatter.format(t)
        assert data["text/plain"] == str(t)
        assert "forward:" in data["text/plain"] and "numpy.tanh(" in data["text/plain"]


def test_like_an_expression_the_trace_is_the_cells_result_and_can_be_assigned(ip, shown, capsys):
    define_layer(ip)
    result = ip.run_cell("%gradviz --argnum 1 f(x, W)")
    result.raise_error()
    t = result.result
    assert isinstance(t, Trace) and t.argnum == 1
    assert ip.user_ns["_"] is t
    assert "numpy.tanh(" in capsys.readouterr().out  # the terminal's displayhook printed the listing
    ip.run_cell("kept = %gradviz f(x, W)").raise_error()
    assert isinstance(ip.user_ns["kept"], Trace) and ip.user_ns["kept"].argnum == 0
    assert "numpy.tanh(" not in capsys.readouterr().out  # an assignment shows nothing


@pytest.mark.parametrize("line, said", [
    ("", "nothing to trace"),
    ("f", "'f' is not a function call"),
    ("x + 1", "is not a function call"),
    ("f(x,", "is not a Python expression"),
    ("nope(x, W)", "name 'nope' is not defined"),
    ("f(x, nothing_here)", "name 'nothing_here' is not defined"),
    ("x(W)", "not a function"),
    ("--argnum 2 f(x, W)", "--argnum 2, but the call passes 2 positional arguments"),
    ("--view sideways f(x, W)", "invalid choice: 'sideways'"),
    ("--budget 0 f(x, W)", "--budget must be a positive"),
    ("--bogus f(x, W)", "unrecognized arguments: --bogus"),
    ("--out 1x f(x, W)", "is not a variable name"),
    ("--wrt x f(x, W)", "--wrt is for the cell magic"),
    ("onp.dot(x, W)", "needs a scalar output"),
    ("f(onp.array([[1, 2, 3]]), W)", "integer or boolean"),
])
def test_line_magic_misuse_is_a_usage_error(ip, shown, line, said):
    define_layer(ip)
    with pytest.raises(UsageError, match=None) as error:
        ip.run_line_magic("gradviz", line)
    assert said in str(error.value)
    assert shown == []


def test_a_non_scalar_result_says_to_reduce_it(ip, shown):
    define_layer(ip)
    with pytest.raises(UsageError) as error:
        ip.run_cell_magic("gradviz", "--wrt W", "np.tanh(np.dot(x, W))")
    message = str(error.value)
    assert "float64[1, 2]" in message and "np.sum" in message and "cotangent" not in message


@pytest.mark.parametrize("options, cell, said", [
    ("", "np.sum(W)", "--wrt x"),
    ("--wrt nowhere", "np.sum(W)", "--wrt nowhere: no such variable"),
    ("--wrt 2W", "np.sum(W)", "must name a variable"),
    ("--wrt W", "s = np.sum(W)", "must end with an expression"),
    ("--wrt W", "np.sum(W", "not valid Python"),
    ("--wrt W f(x)", "np.sum(W)", "unexpected 'f(x)'"),
])
def test_cell_magic_misuse_is_a_usage_error(ip, shown, options, cell, said):
    define_layer(ip)
    with pytest.raises(UsageError) as error:
        ip.run_cell_magic("gradviz", options, cell)
    assert said in str(error.value)


def test_an_error_in_the_users_code_is_not_hidden(ip, shown):
    ip.run_cell("def broken(x):\n    return np.sum(x) + undefined_name\n", store_history=False).raise_error()
    ip.push({"x0": onp.ones(2)})
    with pytest.raises(NameError, match="undefined_name"):
        ip.run_line_magic("gradviz", "broken(x0)")
    with pytest.raises(ZeroDivisionError):
        ip.run_cell_magic("gradviz", "--wrt x0", "np.sum(x0) + 1 // 0")


def test_usage_errors_show_in_run_cell_without_a_traceback(ip, shown, capsys):
    result = ip.run_cell("%gradviz 1 + 2", store_history=False)
    assert isinstance(result.error_in_exec, UsageError)
    printed = capsys.readouterr()
    assert "is not a function call" in printed.out + printed.err
    assert "Traceback" not in printed.out + printed.err


def test_check_runs_the_per_node_check_and_shows_the_failure(ip, shown):
    ip.run_cell(
        "from gradviz.extend import primitive, defvjp\n"
        "@primitive\n"
        "def cube(x):\n"
        "    return x ** 3\n"
        "defvjp(cube, lambda ans, x: lambda g: 2 * g * x ** 2)  # wrong: 3 x^2\n"
        "def model(w):\n"
        "    return np.sum(np.sin(cube(w)))\n"
        "w0 = onp.array([0.3, -0.7])\n",
        store_history=False,
    ).raise_error()
    t = ip.run_line_magic("gradviz", "--check model(w0)")
    (report,) = shown
    assert [check.primitive.rsplit(".", 1)[-1] for check in report.failures] == ["cube"]
    cube = next(node for node in t.nodes if node.primitive and node.primitive.endswith("cube"))
    assert report.first.node == cube.id
    assert [entry["status"] for entry in t.annotations[cube.id] if entry["kind"] == "vjp-check"] == ["fail"]
    # The node that is right passes: no false alarm.
    sin = next(node for node in t.nodes if node.primitive == "numpy.sin")
    assert [entry["status"] for entry in t.annotations[sin.id] if entry["kind"] == "vjp-check"] == ["pass"]


def test_nonfinite_names_where_the_nan_was_born(ip, shown):
    ip.run_cell(
        "def length(w):\n"
        "    return np.sqrt(np.sum(w ** 2))\n"
        "zero = onp.zeros(2)\n",
        store_history=False,
    ).raise_error()
    with onp.errstate(divide="ignore", invalid="ignore"):
        t = ip.run_line_magic("gradviz", "--nonfinite length(zero)")
    (report,) = shown
    assert report.backward.node in {node.id for node in t.nodes}
    assert report.forward is None
    assert report.backward.primitive == "numpy.sqrt"
    assert report.backward.site.line == 2


def test_check_without_the_debugger_is_a_clear_usage_error(ip, shown, monkeypatch):
    def missing(self, **options):
        raise ModuleNotFoundError("No module named 'gradviz.debug.check'", name="gradviz.debug.check")

    monkeypatch.setattr(Trace, "check", missing)
    define_layer(ip)
    with pytest.raises(UsageError, match="--check: the debugger"):
        ip.run_line_magic("gradviz", "--check f(x, W)")
