"""The tracer: boxes, trace levels and primitives.

It knows nothing about derivatives. A *trace level* is one active trace; a *box* wraps a value that the trace
follows, together with the node that made it. Calling a primitive on boxes unboxes the arguments of the innermost
level, calls the real function, and hands the recipe to that level's node type. Reverse mode, forward mode and the
recorder are node types plugged into this one tracer.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

__all__ = [
    "Box", "Level", "Primitive", "NoTracePrimitive", "primitive", "notrace_primitive", "getval", "isbox", "new_box",
    "trace", "stop_gradient", "box_types", "register_notrace",
]


class _ThreadState(threading.local):
    """Each thread has its own stack of active levels, so concurrent traces never see each other."""

    def __init__(self) -> None:
        self.levels: list[Level] = []


_state = _ThreadState()


class Level:
    """One active trace. ``depth`` orders nested traces; the object's identity tells apart two traces.

    A level is never reused: two traces of the same depth, one after the other or in two threads, are two levels.
    """

    __slots__ = ("depth", "node_type", "notrace", "ids", "active", "hooks", "__weakref__")

    def __init__(self, depth: int, node_type: type) -> None:
        self.depth = depth
        self.node_type = node_type
        self.notrace = node_type.notrace
        self.ids = node_type.new_ids()  # node ids, stable within this trace: 0, 1, 2, ...
        self.active = True
        self.hooks: dict | None = None  # node -> functions to call on its outgrad (gradviz.extend.register_hook)

    def __repr__(self) -> str:
        state = "active" if self.active else "finished"
        return f"<Level depth={self.depth} {self.node_type.__name__} {state}>"


@contextmanager
def new_level(node_type: type):
    levels = _state.levels
    level = Level(len(levels), node_type)
    levels.append(level)
    try:
        yield level
    finally:
        levels.pop()
        level.active = False


class Box:
    """A value followed by a trace: the value, the node that made it, and the level of that trace."""

    __slots__ = ("_value", "_node", "_level")
    type_mappings: dict[type, type] = {}
    types: set[type] = set()

    def __init__(self, value: Any, level: Level, node: Any) -> None:
        self._value = value
        self._level = level
        self._node = node

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._value!r}, depth={self._level.depth})"

    __hash__ = object.__hash__

    @classmethod
    def register(cls, value_type: type) -> None:
        """Box values of ``value_type`` with this class when a primitive returns them."""
        Box.types.add(cls)
        Box.type_mappings[value_type] = cls
        Box.type_mappings[cls] = cls


box_types = Box.types
_box_of_type = Box.type_mappings


def new_box(value: Any, level: Level, node: Any) -> Box:
    try:
        return _box_of_type[type(value)](value, level, node)
    except KeyError:
        raise TypeError(
            f"gradviz can't trace a value of type {type(value).__name__}. Differentiable values are float and complex "
            "scalars and arrays, and tuples, lists and dicts of them; convert other values before they reach a "
            "traced function, or register a Box and a VSpace for the type (see gradviz.extend)."
        ) from None


def isbox(x: Any) -> bool:
    return type(x) in box_types


def getval(x: Any) -> Any:
    """The plain value inside ``x``, however many traces box it."""
    while type(x) in box_types:
        x = x._value
    return x


class Primitive:
    """A function the tracer treats as one step: traced values are unboxed around the call and the result boxed."""

    # For NumPy's functions: args with lists of traced values made into traced arrays (np.sum([a, b])), or None.
    pack_arguments: Callable | None = None
    # Where a NumPy function takes ``out`` (an array it writes into, which a trace can't follow), or None.
    out_position: int | None = None

    def __init__(self, fun: Callable, qualname: str | None = None) -> None:
        self.fun = fun
        functools.update_wrapper(self, fun)
        self.qualname = qualname or (
            f"{getattr(fun, '__module__', None) or '?'}.{getattr(fun, '__qualname__', None) or repr(fun)}")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        top = None
        for arg in args:
            if type(arg) in box_types:
                level = arg._level
                if top is None or level.depth > top.depth:
                    top = level
        if top is None:
            if kwargs:
                _reject_boxed_kwargs(self, kwargs)
            try:
                return self.fun(*args, **kwargs)
            except TypeError:  # costs nothing until raised: maybe traced values hidden in a list
                packed = self.pack_arguments(args) if self.pack_arguments is not None else None
                if packed is None:
                    raise
            return self(*packed, **kwargs)
        if kwargs:
            _reject_boxed_kwargs(self, kwargs)
        position = self.out_position
        if position is not None and (kwargs or len(args) > position):
            _reject_out(self, args, kwargs)
        if top.notrace and self in top.notrace:
            return self(*[a._value if type(a) in box_types and a._level is top else a for a in args], **kwargs)
        if len(args) == 1:  # the common case, kept short: one traced argument
            box = args[0]
            value = box._value
            ans = self(value, **kwargs) if type(value) in box_types else self.fun(value, **kwargs)
            node = top.node_type(ans, self, (value,), kwargs, (0,), (box._node,), top)
        else:
            argvals = list(args)
            argnums = []
            parents = []
            outer = False  # does a value still carry boxes of outer traces?
            for i, arg in enumerate(args):
                if type(arg) in box_types:
                    level = arg._level
                    if level is top:
                        argnums.append(i)
                        parents.append(arg._node)
                        value = argvals[i] = arg._value
                        if type(value) in box_types:
                            outer = True
                    elif level.depth == top.depth:
                        _reject_mixed_levels(self, i, arg, top)
                    else:
                        outer = True
            ans = self(*argvals, **kwargs) if outer else self.fun(*argvals, **kwargs)
            node = top.node_type(ans, self, argvals, kwargs, argnums, parents, top)
        box_type = _box_of_type.get(type(ans))
        return new_box(ans, top, node) if box_type is None else box_type(ans, top, node)

    @property
    def name(self) -> str:
        """The primitive's own name, without its module (``tanh`` for ``numpy.tanh``)."""
        return self.qualname.rsplit(".", 1)[-1]

    def __get__(self, obj, objtype=None):
        # A primitive stored on a class (as wrapped NumPy methods are) binds like a function.
        return self if obj is None else functools.partial(self, obj)

    def __repr__(self) -> str:
        return f"<primitive {self.qualname}>"

    def __reduce__(self):
        return self.qualname


def _reject_boxed_kwargs(fun: Primitive, kwargs: dict) -> None:
    for name, value in kwargs.items():
        if type(value) in box_types:
            raise TypeError(
                f"{fun.qualname}: the keyword argument {name}= is a traced value; gradviz traces positional "
                f"arguments only. Pass {name} positionally, or wrap it in gradviz.stop_gradient if it is a constant."
            )


def _reject_out(fun: Primitive, args: tuple, kwargs: dict) -> None:
    position = fun.out_position
    if kwargs.get("out") is not None or (len(args) > position and args[position] is not None):
        raise TypeError(
            f"{fun.qualname}: out= writes the result into an existing array in place, which gradviz can't trace. "
            f"Drop out= and use the returned value (y = np.{fun.name}(x, ...))."
        )


def _reject_mixed_levels(fun: Primitive, argnum: int, box: Box, top: Level) -> None:
    raise ValueError(
        f"{fun.qualname}: argument {argnum} is a traced value from another trace ({box._level!r}) than the "
        f"current one ({top!r}). A traced value was probably kept (in a global, a closure or a cache) after the "
        "gradient that made it had finished; keep gradviz.getval(x) instead."
    )


def register_notrace(node_type: type, fun: Primitive) -> None:
    """Treat ``fun``'s output as a constant in traces whose nodes are ``node_type`` (e.g. only in forward mode)."""
    node_type.notrace = frozenset(node_type.notrace | {fun})


def primitive(fun: Callable) -> Primitive:
    """Make ``fun`` a primitive: traced values are unboxed around the call, and its derivative rules are yours."""
    return Primitive(fun)


class NoTracePrimitive(Primitive):
    """A primitive whose output is a constant: it unboxes every argument and records nothing.

    ``weights`` names an argument (keyword, position) that the output does depend on continuously (histogram's
    weights): a traced value there is refused, never silently taken as a constant.
    """

    weights: tuple[str, int] | None = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.weights is not None:
            name, position = self.weights
            given = kwargs.get(name, args[position] if len(args) > position else None)
            if type(given) in box_types:
                raise NotImplementedError(
                    f"{self.qualname}: its {name} argument is traced, but gradviz takes {self.name}'s output as a "
                    f"constant, which would make the gradient in {name} silently zero. Write it with "
                    f"differentiable pieces, e.g. np.bincount(np.digitize(x, edges) - 1, {name}, len(edges) - 1)."
                )
        return self.fun(*[_constant(a) for a in args], **{k: _constant(v) for k, v in kwargs.items()})


def _constant(value: Any) -> Any:
    """``value`` with every box taken off, inside lists and tuples too (np.argmax([a, b]))."""
    if type(value) in box_types:
        return getval(value)
    if type(value) in (list, tuple) and any(type(item) in box_types or type(item) in (list, tuple) for item in value):
        return type(value)(_constant(item) for item in value)
    return value


def notrace_primitive(fun: Callable) -> NoTracePrimitive:
    """Make ``fun`` a primitive whose result is a constant (e.g. comparisons, argmax, floor)."""
    return NoTracePrimitive(fun)


def trace(node_type: type, fun: Callable, x: Any, pack_output: Callable | None = None, **root_kwargs: Any):
    """Run ``fun(x)`` in a new level whose nodes are ``node_type``; return (start node, output value, end node).

    The end node is None when the output does not depend on ``x``. ``pack_output`` turns a plain container of
    traced values (a tuple of boxes, say) into one traced value so that it gets an end node too.
    """
    with new_level(node_type) as level:
        start_node = node_type.root(x, level, **root_kwargs)
        start_box = new_box(x, level, start_node)
        out = fun(start_box)
        if pack_output is not None and type(out) not in box_types:
            out = pack_output(out)
        if type(out) in box_types and out._level is level:
            return start_node, out._value, out._node
        return start_node, out, None  # may still be traced by an outer level


@notrace_primitive
def stop_gradient(x: Any) -> Any:
    """``x``, treated as a constant by every derivative, at every nesting level."""
    return x
