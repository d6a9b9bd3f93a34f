"""The helpers autograd code imports from ``autograd.wrap_util``, for writing its own differential operators."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .core.wrap_util import subvals, unary_to_nary

__all__ = ["unary_to_nary", "subvals", "wraps", "wrap_nary_f", "get_name", "get_doc"]


def get_name(fun: Any) -> str:
    return getattr(fun, "__name__", "[unknown name]")


def get_doc(fun: Any) -> str:
    return getattr(fun, "__doc__", None) or ""


def wraps(fun: Any, namestr: str = "{fun}", docstr: str = "{doc}", **kwargs: Any) -> Callable[[Callable], Callable]:
    """A decorator naming the wrapper after ``fun``: ``namestr`` and ``docstr`` are formatted with ``fun``'s name
    (``{fun}``), its docstring (``{doc}``) and ``kwargs``."""

    def rename(wrapper: Callable) -> Callable:
        try:
            wrapper.__name__ = namestr.format(fun=get_name(fun), **kwargs)
            wrapper.__doc__ = docstr.format(fun=get_name(fun), doc=get_doc(fun), **kwargs)
        except (AttributeError, TypeError):  # builtins and partials may refuse new names; the wrapper still works
            pass
        return wrapper

    return rename


def wrap_nary_f(fun: Callable, op: Any, argnum: Any) -> Callable[[Callable], Callable]:
    """``wraps`` for operator ``op`` applied to ``fun`` in argument ``argnum``: ``op_of_fun_wrt_argnum_i``."""
    namestr = "{op}_of_{fun}_wrt_argnum_{argnum}"
    docstr = "{op} of {fun} with respect to argument {argnum}.\n\n{fun}'s docstring:\n{doc}"
    return wraps(fun, namestr, docstr, op=get_name(op), argnum=argnum)
