"""Turning operators on one-argument functions into operators on any argument (``argnum``)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

__all__ = ["unary_to_nary", "subvals"]


def subvals(values: tuple, replacements: Any) -> tuple:
    """``values`` with ``values[i]`` replaced by ``v`` for each ``(i, v)`` in ``replacements``."""
    values = list(values)
    for i, value in replacements:
        values[i] = value
    return tuple(values)


def _fun_name(fun: Callable) -> str:
    return getattr(fun, "__name__", type(fun).__name__)


def unary_to_nary(unary_operator: Callable) -> Callable:
    """Make ``op(fun, x, ...)`` into ``op(fun, argnum=0, ...)(*args, **kwargs)``.

    ``argnum`` may be an int (differentiate in that argument) or a tuple of ints (in the tuple of those arguments).
    The result is named like ``grad_of_loss_wrt_argnum_1`` so that tracebacks and reprs say what it is.
    """

    @functools.wraps(unary_operator)
    def nary_operator(fun: Callable, argnum: int | tuple[int, ...] = 0, *op_args: Any, **op_kwargs: Any) -> Callable:
        if isinstance(argnum, list):
            argnum = tuple(argnum)
        if not (isinstance(argnum, int) or (isinstance(argnum, tuple) and all(isinstance(i, int) for i in argnum))):
            raise TypeError(f"{unary_operator.__name__}: argnum must be an int or a tuple of ints, not {argnum!r}")

        @functools.wraps(fun)
        def nary_f(*args: Any, **kwargs: Any) -> Any:
            indices = (argnum,) if isinstance(argnum, int) else argnum
            for i in indices:
                if not -len(args) <= i < len(args):
                    raise TypeError(
                        f"{nary_f.__name__}: argnum {i} is out of range: {_fun_name(fun)} was called with "
                        f"{len(args)} positional argument(s)."
                    )

            def unary_f(x: Any) -> Any:
                replacements = [(argnum, x)] if isinstance(argnum, int) else zip(argnum, x)
                return fun(*subvals(args, replacements), **kwargs)

            unary_f.__name__ = _fun_name(fun)
            unary_f.argnum = argnum
            x = args[argnum] if isinstance(argnum, int) else tuple(args[i] for i in argnum)
            return unary_operator(unary_f, x, *op_args, **op_kwargs)

        nary_f.__name__ = f"{unary_operator.__name__}_of_{_fun_name(fun)}_wrt_argnum_{argnum}"
        nary_f.__qualname__ = nary_f.__name__
        nary_f.__doc__ = (
            f"{unary_operator.__name__} of {_fun_name(fun)} with respect to argument {argnum}.\n\n"
            f"{_fun_name(fun)}'s docstring:\n{getattr(fun, '__doc__', None) or ''}"
        )
        return nary_f

    return nary_operator
