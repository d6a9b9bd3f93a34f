"""The differential operators: grad and its relatives, built from make_vjp and make_jvp.

Each is written for a function of one argument and made n-ary by ``unary_to_nary``, so ``grad(f, argnum=1)``
differentiates in the second argument and ``grad(f, (0, 1))`` in the first two together.
"""

from __future__ import annotations

import inspect
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from . import backward, forward
from .backward import defvjp_argnum
from .tracer import box_types, getval, primitive
from .vspace import describe, vspace
from .wrap_util import unary_to_nary

__all__ = [
    "grad", "value_and_grad", "grad_and_aux", "elementwise_grad", "jacobian", "hessian", "holomorphic_grad",
    "deriv", "make_vjp", "make_jvp", "make_hvp", "hessian_tensor_product", "hessian_vector_product",
    "tensor_jacobian_product", "vector_jacobian_product", "make_ggnvp", "grad_named", "multigrad_dict",
    "checkpoint",
]


def _where(op: str, fun: Callable) -> str:
    argnum = getattr(fun, "argnum", 0)
    return f"{op} of {getattr(fun, '__name__', 'the function')} (argnum {argnum})"


def check_input(op: str, fun: Callable, x: Any) -> None:
    """Raise a TypeError naming ``op``, the function and the argument if ``x`` can't be differentiated."""
    try:
        space = vspace(x)
    except TypeError as error:
        raise TypeError(f"{_where(op, fun)}: can't differentiate with respect to this argument: {error}") from None
    if not space.is_differentiable:
        if getattr(space, "dtype", None) is not None and space.dtype.kind == "O":
            raise TypeError(
                f"{_where(op, fun)}: the argument is an object array (dtype=object), whose elements gradviz can't "
                "follow. Convert it to numbers first: x.astype(float)."
            )
        raise TypeError(
            f"{_where(op, fun)}: the argument is {describe(x)}, an integer or boolean value, which has no "
            "gradient. Pass a float (3.0 rather than 3) or an array of floats (x.astype(float))."
        )


_NOT_SCALAR = ("Use jacobian for the full Jacobian, elementwise_grad when each output depends only on the matching "
               "input, or make_vjp / vector_jacobian_product for a vector-Jacobian product.")
_NOT_REAL = ("Use holomorphic_grad for a holomorphic function, or differentiate its real part or absolute "
             "value.")


def check_real_scalar(op: str, fun: Callable, ans: Any, not_scalar: str = _NOT_SCALAR,
                      not_real: str = _NOT_REAL) -> None:
    """Raise a TypeError, with what to do instead, unless ``ans`` is a real scalar (complex for holomorphic_grad)."""
    space = vspace(ans)
    if space.size != 1 or not hasattr(space, "ndim"):
        raise TypeError(f"{_where(op, fun)}: {op} needs a scalar output, but the function returned "
                        f"{describe(ans)}. {not_scalar}")
    if space.iscomplex and op != "holomorphic_grad":
        raise TypeError(f"{_where(op, fun)}: {op} needs a real output, but the function returned "
                        f"{describe(ans)}. {not_real}")


def _make_vjp(op: str, fun: Callable, x: Any) -> tuple[Callable, Any]:
    check_input(op, fun, x)
    return backward.make_vjp(fun, x)


@unary_to_nary
def make_vjp(fun: Callable, x: Any) -> tuple[Callable, Any]:
    """``(vjp, fun(x))``: ``vjp(g)`` is the vector-Jacobian product of ``g`` with fun at x."""
    return _make_vjp("make_vjp", fun, x)


@unary_to_nary
def make_jvp(fun: Callable, x: Any) -> Callable:
    """``jvp(v) -> (fun(x), J v)``: forward mode, the Jacobian-vector product at x."""
    check_input("make_jvp", fun, x)
    return forward.make_jvp(fun, x)


@unary_to_nary
def grad(fun: Callable, x: Any) -> Any:
    """The gradient of a scalar-output function, with the type, dtype and structure of ``x``."""
    vjp, ans = _make_vjp("grad", fun, x)
    check_real_scalar("grad", fun, ans)
    return vjp(vspace(ans).ones(), last_use=True)


@unary_to_nary
def value_and_grad(fun: Callable, x: Any) -> tuple[Any, Any]:
    """``(fun(x), grad(fun)(x))`` from one forward pass."""
    vjp, ans = _make_vjp("value_and_grad", fun, x)
    check_real_scalar("value_and_grad", fun, ans)
    return ans, vjp(vspace(ans).ones(), last_use=True)


@unary_to_nary
def grad_and_aux(fun: Callable, x: Any) -> tuple[Any, Any]:
    """For ``fun(x) -> (scalar, aux)``: ``(gradient of the scalar, aux)``, aux untraced."""
    captured = []

    def scalar_part(x_box: Any) -> Any:
        out, aux = fun(x_box)
        captured.append((aux, getattr(x_box, "_level", None)))
        return out

    scalar_part.__name__ = getattr(fun, "__name__", "fun")
    scalar_part.argnum = getattr(fun, "argnum", 0)
    vjp, ans = _make_vjp("grad_and_aux", scalar_part, x)
    check_real_scalar("grad_and_aux", scalar_part, ans)
    aux, level = captured[-1]
    return vjp(vspace(ans).ones(), last_use=True), _unbox_level(aux, level)


def _unbox_level(value: Any, level: Any) -> Any:
    """``value`` with the boxes of ``level`` taken off (outer traces' boxes stay)."""
    if type(value) in box_types:
        if value._level is level:
            return _unbox_level(value._value, level)
        return value
    if type(value) in (tuple, list):
        return type(value)(_unbox_level(item, level) for item in value)
    if type(value) is dict:
        return {key: _unbox_level(item, level) for key, item in value.items()}
    return value


@unary_to_nary
def elementwise_grad(fun: Callable, x: Any) -> Any:
    """The sum of the rows of the Jacobian: the gradient of each output in its own input, for elementwise funs."""
    vjp, ans = _make_vjp("elementwise_grad", fun, x)
    if vspace(ans).iscomplex:
        raise TypeError(f"{_where('elementwise_grad', fun)}: elementwise_grad needs a real output; "
                        f"the function returned {describe(ans)}.")
    return vjp(vspace(ans).ones(), last_use=True)


@unary_to_nary
def holomorphic_grad(fun: Callable, x: Any) -> Any:
    """The complex derivative of a holomorphic scalar function of a complex input."""
    if not vspace(x).iscomplex:
        raise TypeError(f"{_where('holomorphic_grad', fun)}: the input is {describe(x)}; holomorphic_grad needs "
                        "a complex input (use grad for real inputs).")
    vjp, ans = _make_vjp("holomorphic_grad", fun, x)
    check_real_scalar("holomorphic_grad", fun, ans)
    return vjp(vspace(ans).ones(), last_use=True)


@unary_to_nary
def jacobian(fun: Callable, x: Any) -> Any:
    """The Jacobian, of shape ``fun(x).shape + x.shape``, one VJP per output element."""
    from .. import numpy as gnp

    vjp, ans = _make_vjp("jacobian", fun, x)
    out_space, in_space = vspace(ans), vspace(x)
    if not hasattr(out_space, "ndim") or not hasattr(in_space, "ndim"):
        raise TypeError(f"{_where('jacobian', fun)}: jacobian needs array input and output, here {describe(x)} -> "
                        f"{describe(ans)}; flatten containers first (gradviz.misc.flatten_func).")
    rows = [vjp(basis) for basis in out_space.standard_basis()]
    if not rows:
        return gnp.zeros(out_space.shape + in_space.shape, in_space.dtype)
    return gnp.reshape(gnp.stack(rows), out_space.shape + in_space.shape)


@unary_to_nary
def hessian(fun: Callable, x: Any) -> Any:
    """The Hessian of a scalar function, of shape ``x.shape + x.shape`` (the Jacobian of the gradient)."""
    return jacobian(jacobian(fun))(x)


@unary_to_nary
def deriv(fun: Callable, x: Any) -> Any:
    """The derivative of a function of a scalar (forward mode): J times ones."""
    return make_jvp(fun)(x)(vspace(x).ones())[1]


@unary_to_nary
def make_hvp(fun: Callable, x: Any) -> tuple[Callable, Any]:
    """``(hvp, grad(fun)(x))``, where ``hvp(v)`` is the Hessian-vector product, by reverse over reverse."""
    return make_vjp(grad(fun))(x)


def _inner(x: Any, y: Any) -> Any:
    """The (traced) real inner product of two values of one vector space, containers included."""
    from .. import numpy as gnp

    if isinstance(getval(x), dict):
        return sum(_inner(x[key], y[key]) for key in getval(x))
    if isinstance(getval(x), (tuple, list)):
        return sum(_inner(a, b) for a, b in zip(x, y))
    return gnp.real(gnp.sum(x * gnp.conj(y)))


def hessian_tensor_product(fun: Callable, argnum: int = 0) -> Callable:
    """``htp(*args, v)``: the Hessian of ``fun`` (in argument ``argnum``) applied to ``v``."""
    fun_grad = grad(fun, argnum)

    def grad_dot_vector(*args: Any, **kwargs: Any) -> Any:
        *args, vector = args
        return _inner(fun_grad(*args, **kwargs), vector)

    htp = grad(grad_dot_vector, argnum)
    htp.__name__ = f"hessian_tensor_product_of_{getattr(fun, '__name__', 'fun')}_wrt_argnum_{argnum}"
    return htp


hessian_vector_product = hessian_tensor_product


def tensor_jacobian_product(fun: Callable, argnum: int = 0) -> Callable:
    """``tjp(*args, v)``: ``v`` times the Jacobian of ``fun`` (in argument ``argnum``)."""

    def tjp(*args: Any, **kwargs: Any) -> Any:
        *args, vector = args
        return make_vjp(fun, argnum)(*args, **kwargs)[0](vector)

    tjp.__name__ = f"tensor_jacobian_product_of_{getattr(fun, '__name__', 'fun')}_wrt_argnum_{argnum}"
    return tjp


vector_jacobian_product = tensor_jacobian_product


def _half_squared_norm(x: Any) -> Any:
    from .. import numpy as gnp

    return 0.5 * gnp.sum(x ** 2, axis=-1)


def make_ggnvp(f: Callable, g: Callable = _half_squared_norm, f_argnum: int = 0) -> Callable:
    """``ggnvp_maker(*args) -> ggnvp``: the generalised Gauss-Newton product J^T H_g J v of ``g(f(x))``.

    J v is found as the VJP of the (linear) VJP of f, so f needs only reverse-mode rules.
    """

    @unary_to_nary
    def _make_ggnvp(f: Callable, x: Any) -> Callable:
        f_vjp, f_x = make_vjp(f)(x)
        g_hvp, grad_g_x = make_hvp(g)(f_x)
        f_jvp, _ = make_vjp(f_vjp)(vspace(grad_g_x).zeros())

        def ggnvp(v: Any) -> Any:
            return f_vjp(g_hvp(f_jvp(v)))

        return ggnvp

    return _make_ggnvp(f, f_argnum)


def grad_named(fun: Callable, argname: str) -> Callable:
    """The gradient of ``fun`` in its argument named ``argname``."""
    names = list(inspect.signature(fun).parameters)
    if argname not in names:
        raise TypeError(f"grad_named: {getattr(fun, '__name__', fun)} has no argument {argname!r} (it has {names})")
    return grad(fun, names.index(argname))


def multigrad_dict(fun: Callable) -> Callable:
    """``fun``'s gradient in all its arguments at once, as an ordered dict keyed by argument name."""
    signature = inspect.signature(fun)

    def gradient_dict(*args: Any, **kwargs: Any) -> OrderedDict:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        names = list(bound.arguments)

        def fun_of_values(values: tuple) -> Any:
            # Rebinding by name and calling with .args/.kwargs keeps *args, **kwargs and positional-only
            # parameters where they belong (fun(**by_name) would not).
            rebound = inspect.BoundArguments(signature, OrderedDict(zip(names, values)))
            return fun(*rebound.args, **rebound.kwargs)

        fun_of_values.__name__ = getattr(fun, "__name__", "fun")
        gradients = grad(fun_of_values)(tuple(bound.arguments.values()))
        return OrderedDict(zip(names, gradients))

    return gradient_dict


def checkpoint(fun: Callable) -> Callable:
    """``fun`` as one primitive: the forward pass keeps no graph, and the VJP (or JVP) runs ``fun`` again to make one.

    Trades time for memory in deep models: only the inputs of each checkpointed call are kept.
    """
    wrapped = primitive(fun)

    def vjp_by_recomputing(argnum: int, ans: Any, args: tuple, kwargs: dict) -> Callable:
        return make_vjp(fun, argnum)(*args, **kwargs)[0]

    def jvp_by_recomputing(argnum: int, g: Any, ans: Any, args: tuple, kwargs: dict) -> Any:
        return make_jvp(fun, argnum)(*args, **kwargs)(g)[1]

    defvjp_argnum(wrapped, vjp_by_recomputing)
    forward.defjvp_argnum(wrapped, jvp_by_recomputing)
    return wrapped
