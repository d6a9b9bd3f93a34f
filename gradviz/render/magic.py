"""The IPython magics: ``%gradviz f(x, W)`` and ``%%gradviz --wrt x``, after ``%load_ext gradviz``.

``%gradviz f(x, W)`` evaluates ``f`` and its arguments in the notebook's namespace, traces the gradient of ``f`` in
its first argument (``--argnum N`` for another) with ``gradviz.trace``, and shows the trace (the widget in a
notebook, the listing in a terminal). ``%%gradviz --wrt x`` traces the cell itself, as a function of the variable
``x`` whose value is the cell's last expression. The trace is the magic's value: IPython shows it as the cell's
result and keeps it in ``_``; ``t = %gradviz f(x)`` (or ``--out NAME``) keeps it in a variable.

Options: ``--argnum N``, ``--view forward|backward``, ``--budget N`` (visible elements before groups collapse),
``--check`` (check every node's VJP: ``Trace.check()``), ``--nonfinite`` (where a NaN or Inf was born:
``Trace.nonfinite()``), ``--out NAME``; for the cell magic ``--wrt x`` (or ``--wrt x,W`` for several).
"""

from __future__ import annotations

import argparse
import ast
import functools
import inspect
import re
import shlex
from collections.abc import Callable
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class
from IPython.display import display

from ..core.differential_operators import check_input, check_real_scalar
from ..record.trace import Trace, trace

__all__ = ["GradvizMagics", "register", "parse_options", "trace_line", "trace_cell", "show_with"]

_USAGE = ("usage: %gradviz [--argnum N] [--view forward|backward] [--budget N] [--check] [--nonfinite] "
          "[--out NAME] f(x, ...)\n"
          "       %%gradviz --wrt x [options]   (a cell whose last expression is the scalar to differentiate)")


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad option as a UsageError instead of exiting the kernel."""

    def error(self, message: str) -> Any:
        raise UsageError(f"%gradviz: {message}\n{_USAGE}")


def _parser() -> _Parser:
    parser = _Parser(prog="%gradviz", add_help=False, allow_abbrev=False)
    parser.add_argument("--argnum", type=int, default=0)
    parser.add_argument("--view", choices=("forward", "backward"))
    parser.add_argument("--budget", type=int)
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--nonfinite", action="store_true")
    parser.add_argument("--out")
    parser.add_argument("--wrt")
    return parser


# An option and, for the ones that take one, its value (``--argnum 1`` or ``--argnum=1``).
_OPTION = re.compile(r"\s*(--(?:argnum|view|budget|out|wrt)(?:=|\s+)\S+|--\w+)(?=\s|$)")


def parse_options(line: str) -> tuple[argparse.Namespace, str]:
    """Split ``line`` into its leading options and the rest, verbatim (a Python call keeps its spaces and quotes)."""
    tokens, rest = [], line
    while True:
        match = _OPTION.match(rest)
        if match is None:
            break
        tokens.extend(shlex.split(match.group(1).replace("=", " ", 1)))
        rest = rest[match.end():]
    options = _parser().parse_args(tokens)
    if options.budget is not None and options.budget < 1:
        raise UsageError("%gradviz: --budget must be a positive number of visible elements")
    if options.out is not None and not options.out.isidentifier():
        raise UsageError(f"%gradviz: --out {options.out!r} is not a variable name")
    return options, rest.strip()


def _evaluate(source: str, namespace: dict, what: str) -> Any:
    try:
        return eval(compile(ast.Expression(body=_parse_expression(source)), "<%gradviz>", "eval"), namespace)
    except NameError as error:
        raise UsageError(f"%gradviz: {error} (the {what} is evaluated in the notebook's namespace; run the cell "
                         "that defines it first)") from None


def _parse_expression(source: str) -> ast.expr:
    return ast.parse(source, mode="eval").body


def _call_parts(line: str, namespace: dict) -> tuple[Callable, list, dict]:
    """(function, args, kwargs) of the call written on the line, each evaluated in ``namespace``."""
    if not line:
        raise UsageError(f"%gradviz: nothing to trace; write the call to differentiate, e.g. %gradviz loss(W, x)\n"
                         f"{_USAGE}")
    try:
        call = _parse_expression(line)
    except SyntaxError as error:
        raise UsageError(f"%gradviz: {line!r} is not a Python expression ({error.msg})\n{_USAGE}") from None
    if not isinstance(call, ast.Call):
        raise UsageError(f"%gradviz: {line!r} is not a function call; write the call to differentiate, e.g. "
                         f"%gradviz loss(W, x) for the gradient of loss in W\n{_USAGE}")
    fun = _evaluate(ast.unparse(call.func), namespace, "function")
    if not callable(fun):
        raise UsageError(f"%gradviz: {ast.unparse(call.func)} is {type(fun).__name__}, not a function")
    # The arguments as the call would see them (*args and **kwargs included), evaluated the same way.
    collect = ast.Call(func=ast.Name("__gradviz_arguments__", ast.Load()), args=call.args, keywords=call.keywords)
    collected = {"__gradviz_arguments__": lambda *args, **kwargs: (list(args), kwargs)}
    try:
        code = compile(ast.fix_missing_locations(ast.Expression(body=collect)), "<%gradviz>", "eval")
        args, kwargs = eval(code, namespace, collected)
    except NameError as error:
        raise UsageError(f"%gradviz: {error} (the arguments are evaluated in the notebook's namespace; run the cell "
                         "that defines them first)") from None
    return fun, args, kwargs


def _raised_by(error: BaseException, functions: tuple[Callable, ...]) -> bool:
    """Whether ``error`` was raised by one of ``functions`` itself (not by the user's code they ran)."""
    tb = error.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    return tb.tb_frame.f_code in {fun.__code__ for fun in functions}


def _trace(fun: Callable, args: list, kwargs: dict, argnum: int | tuple) -> Trace:
    try:
        return trace(fun, *args, argnum=argnum, **kwargs)
    except TypeError as error:
        # The input can't be differentiated, or the output isn't a real scalar: the magic was misused.
        if _raised_by(error, (check_input,)):
            raise UsageError(f"%gradviz: {error}") from None
        if _raised_by(error, (check_real_scalar,)):
            said = str(error).split(". Pass cotangent=")[0]
            raise UsageError(f"%gradviz: {said}. Differentiate a real scalar (a loss): reduce the result to one "
                             "number, e.g. np.sum(...)") from None
        raise


_TRACE_OPTIONS = {name for name, parameter in inspect.signature(trace).parameters.items()
                  if parameter.kind is inspect.Parameter.KEYWORD_ONLY}


def trace_line(line: str, namespace: dict, argnum: int = 0) -> Trace:
    """The Trace of the gradient of the call on ``line`` (e.g. ``"loss(W, x)"``) in its argument ``argnum``."""
    fun, args, kwargs = _call_parts(line, namespace)
    if not -len(args) <= argnum < len(args):
        raise UsageError(f"%gradviz: --argnum {argnum}, but the call passes {len(args)} positional "
                         f"argument{'s' * (len(args) != 1)}; the gradient is taken in a positional argument")
    if kwargs.keys() & _TRACE_OPTIONS:
        # A keyword that gradviz.trace would take as its own goes to the user's function instead.
        fun = functools.wraps(fun)(functools.partial(fun, **kwargs))
        kwargs = {}
    return _trace(fun, args, kwargs, argnum % len(args))


def cell_function(cell: str, wrt: list[str], namespace: dict, filename: str = "<%%gradviz>") -> Callable:
    """The cell as a function of the variables ``wrt``: it runs the body and returns its last expression.

    The body reads the notebook's namespace as its globals; names it assigns stay local to the function, so
    tracing a cell changes no variable of the notebook. ``filename`` should be in linecache (the trace shows the
    lines of the cell).
    """
    try:
        module = ast.parse(cell, filename=filename)
    except SyntaxError as error:
        raise UsageError(f"%%gradviz: the cell is not valid Python ({error.msg}, line {error.lineno})") from None
    if not module.body or not isinstance(module.body[-1], ast.Expr):
        raise UsageError("%%gradviz: the cell must end with an expression, the scalar to differentiate "
                         "(e.g. a last line np.sum(y ** 2))")
    last = module.body[-1]
    body = [*module.body[:-1], ast.copy_location(ast.Return(value=last.value), last)]
    arguments = ast.arguments(posonlyargs=[], args=[ast.arg(arg=name) for name in wrt], kwonlyargs=[],
                              kw_defaults=[], defaults=[])
    function = ast.FunctionDef(name="cell", args=arguments, body=body, decorator_list=[], type_params=[])
    ast.copy_location(function, module.body[0])
    tree = ast.fix_missing_locations(ast.Module(body=[function], type_ignores=[]))
    defined: dict = {}
    exec(compile(tree, filename, "exec"), namespace, defined)
    return defined["cell"]


def trace_cell(cell: str, wrt: str, namespace: dict, filename: str = "<%%gradviz>") -> Trace:
    """The Trace of the cell's last expression, differentiated in the variable(s) named by ``wrt`` ("x" or "x,W")."""
    names = [name.strip() for name in wrt.split(",") if name.strip()]
    if not names or not all(name.isidentifier() for name in names):
        raise UsageError(f"%%gradviz: --wrt {wrt!r} must name a variable (or several: --wrt x,W)")
    missing = [name for name in names if name not in namespace]
    if missing:
        raise UsageError(f"%%gradviz: --wrt {', '.join(missing)}: no such variable in the notebook's namespace; "
                         "define it before the cell")
    fun = cell_function(cell, names, namespace, filename)
    values = [namespace[name] for name in names]
    return _trace(fun, values, {}, 0 if len(names) == 1 else tuple(range(len(names))))


def _debugger(action: Callable[[], Any], option: str) -> Any:
    try:
        return action()
    except ImportError as error:
        if (error.name or "").startswith("gradviz.debug"):
            raise UsageError(f"%gradviz {option}: the debugger (gradviz.debug) is not available in this "
                             "version of gradviz") from None
        raise


def show_with(recorded: Trace, options: dict) -> Trace:
    """Make ``recorded`` display as the widget with ``options`` (view, budget) in a notebook; returns it.

    Only this trace's display changes (an instance attribute IPython's formatter reads); in a terminal it still
    shows as its listing.
    """
    def bundle(include: Any = None, exclude: Any = None) -> Any:
        from IPython import get_ipython

        if getattr(get_ipython(), "kernel", None) is None:
            return Trace._repr_mimebundle_(recorded, include=include, exclude=exclude)
        shown = recorded.widget(**options)._repr_mimebundle_(include=include, exclude=exclude)
        data, metadata = shown if isinstance(shown, tuple) else (shown, {})
        data = {**(data or {}), "text/plain": repr(recorded)}
        return (data, metadata) if metadata else data

    recorded._repr_mimebundle_ = bundle
    return recorded


@magics_class
class GradvizMagics(Magics):
    """``%gradviz`` (a call) and ``%%gradviz`` (a cell): trace a gradient and show it."""

    @line_cell_magic
    def gradviz(self, line: str, cell: str | None = None) -> Trace:
        options, rest = parse_options(line)
        namespace = self.shell.user_ns
        if cell is None:
            if options.wrt is not None:
                raise UsageError("%gradviz: --wrt is for the cell magic %%gradviz; for a call, use --argnum")
            recorded = trace_line(rest, namespace, options.argnum)
        else:
            if options.wrt is None:
                raise UsageError(f"%%gradviz: say which variable to differentiate in: --wrt x\n{_USAGE}")
            if rest:
                raise UsageError(f"%%gradviz: unexpected {rest!r} after the options\n{_USAGE}")
            source = self.shell.transform_cell(cell)
            filename = self.shell.compile.cache(source, self.shell.execution_count)  # linecache: the trace shows it
            recorded = trace_cell(source, options.wrt, namespace, filename)
        return self.finish(recorded, options)

    def finish(self, recorded: Trace, options: argparse.Namespace) -> Trace:
        """Keep the trace, run and show the checks asked for (the widget then draws their findings), return it.

        The trace is the magic's value: IPython shows it as the cell's result (the widget in a notebook, the
        listing in a terminal) and keeps it in ``_``; ``t = %gradviz f(x)`` assigns it.
        """
        if options.out is not None:
            self.shell.user_ns[options.out] = recorded
        reports = []
        if options.check:
            reports.append(_debugger(recorded.check, "--check"))
        if options.nonfinite:
            reports.append(_debugger(recorded.nonfinite, "--nonfinite"))
        view = {key: value for key, value in (("view", options.view), ("budget", options.budget))
                if value is not None}
        if view:
            show_with(recorded, view)
        for report in reports:
            display(report)
        return recorded


def register(ipython: Any) -> None:
    """Register the magics with an IPython shell (``%load_ext gradviz`` calls this)."""
    ipython.register_magics(GradvizMagics)
