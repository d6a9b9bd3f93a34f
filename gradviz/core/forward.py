"""Forward mode: JVP rules and the nodes of a forward trace, which carry a tangent along with each value.

A JVP rule maps the tangent ``g`` of one argument to the tangent of the output: ``jvp(g, ans, *args, **kwargs)``.
``None`` means the output does not depend on that argument; ``"same"`` means the primitive is linear in it, so its
tangent is the primitive applied to ``g``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .node import LooseNode, Node
from .tracer import Primitive, box_types, trace
from .vspace import describe, vspace

__all__ = [
    "defjvp", "defjvp_argnum", "defjvp_argnums", "defjvp_is_zero", "def_linear", "has_jvp", "JVPNode", "make_jvp",
]

_jvps_by_argnum: dict[Primitive, dict[int, Callable | None]] = {}
_jvp_given_argnum: dict[Primitive, Callable] = {}
_jvp_joint: dict[Primitive, Callable] = {}


def _forget_jvps(fun: Primitive) -> None:
    for table in (_jvps_by_argnum, _jvp_given_argnum, _jvp_joint):
        table.pop(fun, None)


def _same(fun: Primitive, argnum: int) -> Callable:
    def jvp(g, ans, *args, **kwargs):
        args = list(args)
        args[argnum] = g
        return fun(*args, **kwargs)

    return jvp


def defjvp(fun: Primitive, *jvpfuns: Callable | str | None, argnums: tuple[int, ...] | None = None) -> None:
    """Define ``fun``'s JVPs, one ``jvp(g, ans, *args, **kwargs)`` per argument (None: zero; "same": linear)."""
    _require_primitive(fun, "defjvp")
    argnums = range(len(jvpfuns)) if argnums is None else argnums
    _forget_jvps(fun)
    _jvps_by_argnum[fun] = {
        argnum: _same(fun, argnum) if isinstance(jvp, str) and jvp == "same" else jvp
        for argnum, jvp in zip(argnums, jvpfuns)
    }


def defjvp_argnum(fun: Primitive, jvpmaker: Callable) -> None:
    """Define ``fun``'s JVP for every argument by ``jvpmaker(argnum, g, ans, args, kwargs)``."""
    _require_primitive(fun, "defjvp_argnum")
    _forget_jvps(fun)
    _jvp_given_argnum[fun] = jvpmaker


def defjvp_argnums(fun: Primitive, jvpmaker: Callable) -> None:
    """Define ``fun``'s JVP jointly: ``jvpmaker(argnums, gs, ans, args, kwargs)`` gives the output's tangent."""
    _require_primitive(fun, "defjvp_argnums")
    _forget_jvps(fun)
    _jvp_joint[fun] = jvpmaker


def defjvp_is_zero(fun: Primitive, argnums: tuple[int, ...] = (0,)) -> None:
    """Declare that ``fun``'s output does not depend (differentiably) on the arguments ``argnums``."""
    _require_primitive(fun, "defjvp_is_zero")
    rules = _jvps_by_argnum.setdefault(fun, {})
    for argnum in argnums:
        rules[argnum] = None


def def_linear(fun: Primitive) -> None:
    """Declare ``fun`` linear in each argument separately, which defines its JVPs (its VJPs are yours)."""
    _require_primitive(fun, "def_linear")
    _forget_jvps(fun)
    _jvp_given_argnum[fun] = lambda argnum, g, ans, args, kwargs: _same(fun, argnum)(g, ans, *args, **kwargs)


def has_jvp(fun: Primitive, argnum: int) -> bool:
    rules = _jvps_by_argnum.get(fun)
    if rules is not None:
        return argnum in rules
    return fun in _jvp_given_argnum or fun in _jvp_joint


def apply_jvp(fun: Primitive, argnum: int, ans: Any, args: Sequence, kwargs: dict, tangent: Any) -> Any:
    """The JVP of ``fun`` along ``tangent`` in argument ``argnum`` at a recipe (ans, args, kwargs); None if zero.

    The same code path as forward mode, for tools (the debugger) that check one recipe at a time.
    """
    parent = _Tangent(tangent)
    node = LooseNode(fun, list(args), dict(kwargs), ans, [argnum], [parent])
    return _tangent(node)


class _Tangent:
    __slots__ = ("tangent",)

    def __init__(self, tangent: Any) -> None:
        self.tangent = tangent


def _require_primitive(fun: Any, who: str) -> None:
    if not isinstance(fun, Primitive):
        raise TypeError(
            f"{who}: {getattr(fun, '__name__', fun)!r} is not a primitive; decorate it with "
            "gradviz.extend.primitive first."
        )


class JVPNode(Node):
    """A node of a forward-mode trace: it computes its tangent as soon as it is made."""

    __slots__ = ("tangent",)

    def __init__(self, value, fun, args, kwargs, argnums, parents, level) -> None:
        Node.__init__(self, value, fun, args, kwargs, argnums, parents, level)
        self.tangent = _tangent(self)

    @classmethod
    def root(cls, value: Any, level: Any, tangent: Any = None) -> JVPNode:
        node = super().root(value, level)
        node.tangent = tangent
        return node


def _tangent(node: JVPNode) -> Any:
    fun, args, kwargs, ans = node.fun, node.args, node.kwargs, node.value
    rules = _jvps_by_argnum.get(fun)
    if rules is not None:
        total = None
        for argnum, parent in zip(node.argnums, node.parents):
            try:
                jvp = rules[argnum]
            except KeyError:
                _missing_jvp(fun, argnum, args)
            if jvp is not None and parent.tangent is not None:
                total = _add(total, _checked(fun, argnum, ans, jvp(parent.tangent, ans, *args, **kwargs)))
        return total
    maker = _jvp_given_argnum.get(fun)
    if maker is not None:
        total = None
        for argnum, parent in zip(node.argnums, node.parents):
            if parent.tangent is not None:
                total = _add(total, _checked(fun, argnum, ans, maker(argnum, parent.tangent, ans, args, kwargs)))
        return total
    maker = _jvp_joint.get(fun)
    if maker is None:
        _missing_jvp(fun, node.argnums[0], args)
    tangents = [parent.tangent for parent in node.parents]
    if all(t is None for t in tangents):
        return None
    tangents = [vspace(args[i]).zeros() if t is None else t for i, t in zip(node.argnums, tangents)]
    return _checked(fun, node.argnums, ans, maker(tuple(node.argnums), tangents, ans, args, kwargs))


def _add(total: Any, tangent: Any) -> Any:
    if tangent is None:
        return total
    if total is None:
        return tangent
    from .backward import add_outgrads

    return add_outgrads(total, tangent)


def _checked(fun: Primitive, argnum: Any, ans: Any, tangent: Any) -> Any:
    if tangent is None:
        return None
    from .backward import check_outgrad

    try:
        check_outgrad(fun, argnum, ans, tangent)
    except ValueError:
        raise ValueError(
            f"the JVP of {fun.qualname} for argument {argnum} returned a tangent of {describe(tangent)} for an "
            f"output of {describe(ans)}: a JVP must return a tangent with the output's shape (broadcast it)."
        ) from None
    return tangent


def _missing_jvp(fun: Primitive, argnum: int, args: list) -> None:
    raise NotImplementedError(
        f"{fun.qualname} has no JVP (forward-mode rule) for argument {argnum} ({describe(args[argnum])}). Define "
        f"one with gradviz.extend.defjvp({fun.name}, ...), or use reverse mode (grad, make_vjp)."
    )


def make_jvp(fun: Callable, x: Any) -> Callable[[Any], tuple[Any, Any]]:
    """``jvp(v) -> (fun(x), J v)``: push the tangent ``v`` forward through ``fun`` at ``x``."""

    def jvp(v: Any) -> tuple[Any, Any]:
        if vspace(v) != vspace(x):
            raise ValueError(f"make_jvp: the tangent is {describe(v)} but the input is {describe(x)}; they must match.")
        from .containers import pack_container

        _, end_value, end_node = trace(JVPNode, fun, x, pack_output=pack_container, tangent=v)
        if end_node is None or end_node.tangent is None:
            return end_value, vspace(end_value).zeros()
        tangent = pack_container(end_node.tangent)  # a rule's tuple of traced tangents is one traced tuple
        if type(tangent) not in box_types:
            tangent = vspace(end_value).cast(tangent)
        return end_value, tangent

    return jvp
