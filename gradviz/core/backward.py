"""Reverse mode: VJP rules, the nodes of a reverse trace, and the backward pass.

A VJP rule maps the gradient ``g`` of a primitive's output to the gradient of one argument. Rules are given in
autograd's curried form, ``maker(ans, *args, **kwargs) -> (g -> gradient)``, so that a rule reads like the math:
``defvjp(tanh, lambda ans, x: lambda g: g / cosh(x) ** 2)``. ``None`` in place of a maker means a zero gradient.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Any

import numpy as np

from .gcpause import gc_paused
from .node import LooseNode, Node
from .sparse import SPARSE_TYPES, IndexedGrad, ItemGrads, densify
from .tracer import Primitive, box_types, trace
from .vspace import describe, vspace

__all__ = [
    "defvjp", "defvjp_argnum", "defvjp_argnums", "defvjp_is_zero", "has_vjp", "VJPNode", "toposort",
    "backward_pass", "make_vjp", "trace_reverse", "pull_back", "add_outgrads", "check_outgrad", "IndexedGrad",
    "ItemGrads", "register_hook",
    "session",
]

ZERO = None  # the rule of an argument whose gradient is always zero

# Three forms of rule, as autograd users write them: one maker per argnum (defvjp), one maker given the argnum
# (defvjp_argnum), and one maker for all the traced argnums at once (defvjp_argnums).
_vjps_by_argnum: dict[Primitive, dict[int, Callable | None]] = {}
_vjp_given_argnum: dict[Primitive, Callable] = {}
_vjp_joint: dict[Primitive, Callable] = {}


def _forget_vjps(fun: Primitive) -> None:
    for table in (_vjps_by_argnum, _vjp_given_argnum, _vjp_joint):
        table.pop(fun, None)


def defvjp(fun: Primitive, *vjpmakers: Callable | None, argnums: tuple[int, ...] | None = None) -> None:
    """Define ``fun``'s VJPs, one ``maker(ans, *args, **kwargs) -> (g -> grad)`` per argument (None: zero)."""
    _require_primitive(fun, "defvjp")
    argnums = range(len(vjpmakers)) if argnums is None else argnums
    _forget_vjps(fun)
    _vjps_by_argnum[fun] = dict(zip(argnums, vjpmakers))


def defvjp_argnum(fun: Primitive, vjpmaker: Callable) -> None:
    """Define ``fun``'s VJP for every argument by ``vjpmaker(argnum, ans, args, kwargs) -> (g -> grad)``."""
    _require_primitive(fun, "defvjp_argnum")
    _forget_vjps(fun)
    _vjp_given_argnum[fun] = vjpmaker


def defvjp_argnums(fun: Primitive, vjpmaker: Callable) -> None:
    """Define ``fun``'s VJP jointly: ``vjpmaker(argnums, ans, args, kwargs) -> (g -> tuple of grads)``."""
    _require_primitive(fun, "defvjp_argnums")
    _forget_vjps(fun)
    _vjp_joint[fun] = vjpmaker


def defvjp_is_zero(fun: Primitive, argnums: tuple[int, ...] = (0,)) -> None:
    """Declare that ``fun``'s output does not depend (differentiably) on the arguments ``argnums``."""
    _require_primitive(fun, "defvjp_is_zero")
    rules = _vjps_by_argnum.setdefault(fun, {})
    for argnum in argnums:
        rules[argnum] = ZERO


def has_vjp(fun: Primitive, argnum: int) -> bool:
    rules = _vjps_by_argnum.get(fun)
    if rules is not None:
        return argnum in rules
    return fun in _vjp_given_argnum or fun in _vjp_joint


def vjp_is_zero(fun: Primitive, argnum: int) -> bool:
    """Whether ``fun``'s VJP for ``argnum`` was declared zero (defvjp with None, or defvjp_is_zero)."""
    rules = _vjps_by_argnum.get(fun)
    return rules is not None and argnum in rules and rules[argnum] is None


def apply_vjp(fun: Primitive, argnum: int, ans: Any, args: Sequence, kwargs: dict, g: Any) -> Any:
    """The VJP of ``fun`` for argument ``argnum`` at a recipe (ans, args, kwargs), applied to ``g``; None if zero.

    The same code path as the backward pass, for tools (the debugger) that check one recipe at a time.
    """
    node = LooseNode(fun, list(args), dict(kwargs), ans, [argnum], [None])
    edges = _node_vjps(node, g)
    return edges[0][2] if edges else None


def _require_primitive(fun: Any, who: str) -> None:
    if not isinstance(fun, Primitive):
        raise TypeError(
            f"{who}: {getattr(fun, '__name__', fun)!r} is not a primitive; decorate it with "
            "gradviz.extend.primitive first."
        )


class VJPNode(Node):
    """A node of a reverse-mode trace. It checks at once that its primitive can be differentiated."""

    __slots__ = ()

    def __init__(self, value, fun, args, kwargs, argnums, parents, level) -> None:
        # Node.__init__ written out: this runs once per traced primitive call, and the extra call costs ~5%.
        self.value = value
        self.fun = fun
        self.args = args
        self.kwargs = kwargs
        self.argnums = argnums
        self.parents = parents
        self.id = next(level.ids)
        self.level = level
        rules = _vjps_by_argnum.get(fun)
        if rules is None:
            if fun not in _vjp_given_argnum and fun not in _vjp_joint:
                _missing_vjp(fun, argnums[0], args)
        else:
            for argnum in argnums:
                if argnum not in rules:
                    _missing_vjp(fun, argnum, args)


def _missing_vjp(fun: Primitive, argnum: int, args: list) -> None:
    raise NotImplementedError(
        f"{fun.qualname} has no VJP (reverse-mode rule) for argument {argnum} ({describe(args[argnum])}), so "
        f"gradviz can't differentiate through it. Define one with gradviz.extend.defvjp({fun.name}, ...), pass "
        "that argument as a constant (gradviz.stop_gradient), or use forward mode (make_jvp) if it has a JVP."
    )


def toposort(end_node: Node) -> list[Node]:
    """The nodes ``end_node`` depends on, children before parents, found without recursion.

    A node is always made after its parents, so within one trace the node ids are a topological order; the
    reachable nodes sorted by decreasing id are the order the backward pass needs.
    """
    return sorted(ancestors([end_node]), key=_node_id, reverse=True)


def ancestors(nodes: list[Node]) -> set[Node]:
    """``nodes`` and every node they depend on, found without recursion."""
    seen = set(nodes)
    stack = list(seen)
    add, push, pop = seen.add, stack.append, stack.pop
    while stack:
        for parent in pop().parents:
            if parent not in seen:
                add(parent)
                push(parent)
    return seen


_node_id = attrgetter("id")


def _node_vjps(node: Node, g: Any) -> Sequence[tuple[int, Node, Any]]:
    """[(argnum, parent, gradient)] for one node; zero gradients are left out."""
    fun, args, kwargs, ans = node.fun, node.args, node.kwargs, node.value
    rules = _vjps_by_argnum.get(fun)
    if rules is not None and len(node.parents) == 1:  # the common case, without building lists
        maker = rules[node.argnums[0]]
        return () if maker is None else ((node.argnums[0], node.parents[0], maker(ans, *args, **kwargs)(g)),)
    if rules is not None:
        out = []
        for argnum, parent in zip(node.argnums, node.parents):
            maker = rules[argnum]
            if maker is not None:
                out.append((argnum, parent, maker(ans, *args, **kwargs)(g)))
        return out
    maker = _vjp_given_argnum.get(fun)
    if maker is not None:
        return [(argnum, parent, maker(argnum, ans, args, kwargs)(g))
                for argnum, parent in zip(node.argnums, node.parents)]
    ingrads = _vjp_joint[fun](tuple(node.argnums), ans, args, kwargs)(g)
    return list(zip(node.argnums, node.parents, ingrads))


_SCALARS = (float, np.float64, np.float32, np.float16, complex, np.complex128, np.complex64, int, np.int64)


def check_outgrad(fun: Any, argnum: int, value: Any, grad: Any) -> None:
    """Raise if ``grad`` can't be the gradient of ``value``: another shape, or complex for a real value."""
    while type(grad) in box_types:
        grad = grad._value
    while type(value) in box_types:
        value = value._value
    tv, tg = type(value), type(grad)
    if tv is np.ndarray and tg is np.ndarray:
        if grad.shape == value.shape and (grad.dtype.kind != "c" or value.dtype.kind == "c"):
            return
    elif tv in _SCALARS and tg in _SCALARS:
        if tg is not complex and tg is not np.complex128 and tg is not np.complex64:
            return
        if tv is complex or tv is np.complex128 or tv is np.complex64:
            return
    elif tg is IndexedGrad:
        if grad.shape == np.shape(value):
            return
    elif tg is ItemGrads:
        if grad.container is value:
            return
    elif isinstance(value, (np.ndarray, *_SCALARS)) and isinstance(grad, (np.ndarray, np.generic, float, complex)):
        if np.shape(grad) == np.shape(value) and (not np.iscomplexobj(grad) or np.iscomplexobj(value)):
            return
    elif isinstance(value, (np.ndarray, *_SCALARS)):
        pass
    else:
        try:
            if vspace(grad) == vspace(value):
                return
        except TypeError:
            pass
    name = getattr(fun, "qualname", getattr(fun, "__name__", repr(fun)))
    if isinstance(value, (tuple, list, dict)):
        reason = "has another structure, shape or dtype"
    elif np.shape(grad) == np.shape(value):
        reason = "is complex, but the argument is real: take the real part"
    else:
        reason = "has another shape" + (" (was it un-broadcast?)" if np.ndim(grad) >= np.ndim(value) else "")
    raise ValueError(
        f"the VJP of {name} for argument {argnum} returned a gradient of {describe(grad)} for an argument of "
        f"{describe(value)}: the gradient {reason}. A VJP must return a gradient with the argument's shape."
    )


def add_outgrads(x: Any, y: Any) -> Any:
    """The sum of two gradients of one value (plain or traced, dense or sparse, arrays or containers)."""
    if type(x) is ItemGrads:
        return x.plus(y)
    if type(y) is ItemGrads:
        return y.plus(x)
    if type(y) is IndexedGrad:
        return y.dense() + x if type(x) is not IndexedGrad else x.add_into(y.dense())
    if type(x) is IndexedGrad:
        return x.dense() + y
    raw = x
    while type(raw) in box_types:
        raw = raw._value
    if type(raw) is np.ndarray or type(raw) in _SCALARS or isinstance(raw, np.generic):
        return x + y
    from .containers import add_any  # for containers, + would join them rather than add them

    return add_any(x, y)


def backward_pass(g: Any, end_node: Node, start_node: Node | None = None, observer: Any = None,
                  hooks: dict | None = None, last_use: bool = False) -> Any:
    """Send ``g`` from ``end_node`` back through the graph; return the gradient that reached ``start_node``.

    Nodes are visited in reverse topological order. The gradients reaching a node from its children (its
    *outgrads*) are summed, and each parent is sent the VJP of that sum. None means nothing reached the start.
    An ``observer`` (the recorder) is told of every step, and ``hooks`` (node -> functions) may replace a node's
    outgrad; either takes the observed loop, so that a plain gradient pays for neither. With ``last_use`` (the
    graph will not be walked again, as in ``grad``), each node lets go of its value and arguments once its VJP has
    run, since only its children (all done by then) and its own VJP need them: memory falls as the pass proceeds.
    """
    if observer is not None or hooks:
        with gc_paused():
            return _observed_backward_pass(g, end_node, start_node, observer, hooks or {})
    outgrads: dict[Node, Any] = {end_node: g}
    owned: set[Node] = set()  # nodes whose summed outgrad is our own array, safe to add into in place
    rules_by_argnum = _vjps_by_argnum
    node = end_node
    with gc_paused():
        try:
            for node in toposort(end_node):
                g = outgrads.pop(node, None)
                if g is None:
                    continue
                parents = node.parents
                if not parents:
                    if node is start_node:
                        return densify(g)
                    continue
                if type(g) in SPARSE_TYPES:
                    g = g.dense()
                rules = rules_by_argnum.get(node.fun)
                if rules is not None and len(parents) == 1:  # the common case, without building lists
                    argnum = node.argnums[0]
                    maker = rules[argnum]
                    if maker is None:
                        continue
                    edges = ((argnum, parents[0], maker(node.value, *node.args, **node.kwargs)(g)),)
                else:
                    edges = _node_vjps(node, g)
                if last_use:
                    node.value = node.args = None
                for argnum, parent, ingrad in edges:
                    if ingrad is None:
                        continue
                    value = parent.value
                    kind = type(ingrad)
                    if kind is not type(value) or kind not in _SAME_TYPE_OK:
                        if not (kind is np.ndarray and type(value) is np.ndarray and ingrad.shape == value.shape
                                and (ingrad.dtype.kind != "c" or value.dtype.kind == "c")):
                            check_outgrad(node.fun, argnum, value, ingrad)
                    prev = outgrads.get(parent)
                    if prev is None:
                        outgrads[parent] = ingrad
                    elif parent in owned and type(prev) is np.ndarray:
                        if kind is IndexedGrad:
                            ingrad.add_into(prev)
                        elif kind is np.ndarray and np.can_cast(ingrad.dtype, prev.dtype, "same_kind"):
                            np.add(prev, ingrad, out=prev)
                        else:
                            outgrads[parent] = prev + ingrad
                    else:
                        total = add_outgrads(prev, ingrad)
                        outgrads[parent] = total
                        if type(total) is np.ndarray and total is not prev and total is not ingrad:
                            owned.add(parent)
        except Exception as error:
            _note_failed_step(error, node, None)
            raise
    return None


def _observed_backward_pass(g: Any, end_node: Node, start_node: Node | None, observer: Any, hooks: dict) -> Any:
    """The backward pass, step by step for an observer, with hooks; no in-place sums (the observer may keep them)."""
    outgrads: dict[Node, Any] = {end_node: g}
    node = end_node
    try:
        for node in toposort(end_node):
            g = outgrads.pop(node, None)
            if g is None:
                continue
            if type(g) in SPARSE_TYPES:
                g = g.dense()
            if hooks and node in hooks:
                for hook in hooks[node]:
                    replaced = hook(g)
                    if replaced is not None:
                        _check_hook_result(hook, node, replaced)
                        g = replaced
            if observer is not None:
                observer.begin_step(node)
            sent = []
            parents = node.parents
            if parents:
                for argnum, parent, ingrad in _node_vjps(node, g):
                    if ingrad is None:
                        continue
                    value = parent.value
                    if type(ingrad) is not type(value) or type(ingrad) not in _SAME_TYPE_OK:
                        check_outgrad(node.fun, argnum, value, ingrad)
                    prev = outgrads.get(parent)
                    outgrads[parent] = ingrad if prev is None else add_outgrads(prev, ingrad)
                    sent.append((argnum, parent, ingrad))
            if observer is not None:
                observer.end_step(node, g, sent)
            if node is start_node:
                return g
    except Exception as error:
        _note_failed_step(error, node, observer)
        raise
    return None


def _check_hook_result(hook: Callable, node: Node, replaced: Any) -> None:
    try:
        check_outgrad(node.fun, 0, node.value, replaced)
    except ValueError:
        raise ValueError(
            f"register_hook: the hook {getattr(hook, '__name__', hook)!r} returned {describe(replaced)} as the "
            f"outgrad of a value of {describe(node.value)} (node %{node.id}); a hook returns None (keep the "
            "outgrad) or a gradient with the value's shape and dtype."
        ) from None


def _note_failed_step(error: Exception, node: Node, observer: Any) -> None:
    """Say which step of the backward pass failed, and where the user's code made that node."""
    if getattr(error, "_gradviz_noted", False) or not hasattr(error, "add_note"):
        return
    name = getattr(node.fun, "qualname", "the input")
    where = observer.describe(node) if observer is not None else None
    error.add_note(
        f"gradviz: this happened in the backward pass, in the VJP of {name} (node %{node.id}), "
        + (f"a node made at {where}." if where else
           "a node of the forward pass; gradviz.trace(fun, *args) records the line of your code that made it.")
    )
    error._gradviz_noted = True


def register_hook(x: Any, hook: Callable[[Any], Any]) -> Any:
    """Call ``hook(outgrad)`` when the backward pass reaches ``x``; a non-None result replaces the outgrad.

    ``x`` must be a traced value (inside the function being differentiated); it is returned unchanged.
    """
    if type(x) not in box_types:
        raise TypeError(
            f"register_hook: {describe(x)} is not a traced value, so no backward pass will reach it. Register hooks "
            "inside the function you differentiate, on values computed from its input."
        )
    level = x._level
    if level.hooks is None:
        level.hooks = {}
    level.hooks.setdefault(x._node, []).append(hook)
    return x


class ReverseSession(threading.local):
    """How this thread's reverse-mode traces are made: plain VJPNodes, or a recorder's nodes and observer."""

    def __init__(self) -> None:
        self.node_type: type = VJPNode
        self.observer: Any = None


session = ReverseSession()


# A gradient of the same type as its (scalar) value needs no further check.
_SAME_TYPE_OK = frozenset({float, complex, np.float64, np.float32, np.float16, np.complex128, np.complex64})


def trace_reverse(fun: Callable, x: Any) -> tuple[Node, Any, Node | None]:
    """Trace ``fun(x)`` with the nodes this thread's session says (plain, or a recorder's): (start, value, end)."""
    from .containers import pack_container

    with gc_paused():
        start_node, end_value, end_node = trace(session.node_type, fun, x, pack_output=pack_container)
    if session.observer is not None and end_node is not None:
        session.observer.traced(end_node)
    return start_node, end_value, end_node


def pull_back(g: Any, start_node: Node, end_node: Node, x_space: Any, observer: Any = None,
              last_use: bool = False) -> Any:
    """The backward pass from ``end_node`` with cotangent ``g``: the gradient at ``start_node``, in x's space."""
    result = backward_pass(g, end_node, start_node, observer, start_node.level.hooks, last_use)
    if result is None:
        return x_space.zeros()
    return result if type(result) in box_types else x_space.cast(result)


def make_vjp(fun: Callable, x: Any) -> tuple[Callable, Any]:
    """Trace ``fun(x)`` and return ``(vjp, fun(x))``, where ``vjp(g)`` is g times the Jacobian of fun at x."""
    observer = session.observer
    start_node, end_value, end_node = trace_reverse(fun, x)
    x_space = vspace(x)

    if end_node is None:
        def vjp(g: Any, *, last_use: bool = False) -> Any:
            warnings.warn(
                f"the output of {getattr(fun, '__name__', 'the function')} does not depend on its input: the "
                "gradient is zero.", stacklevel=3,
            )
            return x_space.zeros()
    else:
        out_space = vspace(end_value)

        def vjp(g: Any, *, last_use: bool = False) -> Any:
            """g times the Jacobian; ``last_use=True`` lets the graph go as the pass runs (no later calls)."""
            if vspace(g) != out_space:
                raise ValueError(
                    f"vjp: the cotangent is {describe(g)} but the output of "
                    f"{getattr(fun, '__name__', 'the function')} is {describe(end_value)}; they must match."
                )
            return pull_back(g, start_node, end_node, x_space, observer, last_use)

    return vjp, end_value
