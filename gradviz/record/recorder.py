"""The recorder: a client of the tracer that keeps, for every node, where the user's code made it.

While ``gradviz.trace`` runs, reverse-mode traces in this thread (the traced function's, and those of any ``grad``
called inside it) are made of ``RecordNode``s, and the backward passes report each step to the ``Recorder``. A
record node notes its call site (file, line, function), its call scope (the chain of the user's function calls
that led to it, one scope per call), a summary of its value, and, for a node made inside a VJP of an inner trace
(grad of grad), which node's backward step made it. Plain ``grad`` never meets any of this.
"""

from __future__ import annotations

import itertools
import math
import os
import sys
import threading
import types
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..core import backward
from ..core.backward import VJPNode
from ..core.sparse import IndexedGrad, ItemGrads
from ..core.tracer import getval
from ..core.vspace import describe
from .summary import HEAD, Summary, summarize

__all__ = ["RecordNode", "Recorder", "Recipe", "Scope", "Site", "recording", "active_recorder"]


@dataclass
class Site:
    """A line of the user's code."""

    file: str
    line: int
    function: str


@dataclass
class Scope:
    """One call of one of the user's functions; ``parent`` is the scope it was called from."""

    id: int
    function: str
    file: str
    line: int  # where the function is defined
    call_line: int | None  # where the parent scope called it
    parent: int | None
    # The call's bytecode offset in the parent: the calls of a loop share it, two calls on one line (f(f(x))) don't.
    call_offset: int | None = None


_USER_DIRS = (os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples", ""),)


def _library_dirs() -> tuple[str, ...]:
    import numpy
    import scipy

    dirs = [os.path.dirname(os.path.dirname(os.path.abspath(__file__))), os.path.dirname(numpy.__file__),
            os.path.dirname(scipy.__file__), os.path.dirname(os.__file__)]
    return tuple(os.path.join(d, "") for d in dirs)


_LIBRARY_DIRS = _library_dirs()
_is_library: dict[types.CodeType, bool] = {}  # code object -> inside gradviz, NumPy, SciPy or the standard library


def _library(code: types.CodeType) -> bool:
    known = _is_library.get(code)
    if known is None:
        filename = code.co_filename
        known = _is_library[code] = (filename.startswith(_LIBRARY_DIRS) and not filename.startswith(_USER_DIRS)
                                     or filename.startswith("<frozen"))
    return known


class Recorder:
    """Collects the nodes and backward steps of one ``gradviz.trace`` call (and of the grads inside it)."""

    def __init__(self, keep_values: bool, boundary: types.FrameType | None, keep_recipes: bool = False) -> None:
        self.keep_values = keep_values
        self.keep_recipes = keep_recipes
        # node id -> Recipe, filled by release() when keep_recipes (the debugger re-runs each node's primitive)
        self.recipes: dict[int, Recipe] | None = None
        self.boundary = boundary  # the frame that called the traced function: scopes stop there
        self.ids = itertools.count()
        self.nodes: list[RecordNode] = []
        self.constants: dict[int, tuple[int, Any]] = {}  # id(value) -> (node id, value), for constant arguments
        self.constant_records: list[tuple[int, Any, Site | None, int | None]] = []
        self.scopes: list[Scope] = []
        self._scope_of_frame: dict[types.FrameType, int | None] = {}
        self.steps: list[dict] = []
        self.arrived: dict[RecordNode, list] = {}  # contributions that reached a node: [(child, argnum, Summary)]
        self._only_arrival: dict[RecordNode, Any] = {}  # a node's only contribution so far, to reuse its summary
        self._summaries: dict[tuple, tuple] = {}  # (id(value), keep) -> (value, its Summary)
        self.running: list[RecordNode] = []  # the nodes whose VJPs are running now, innermost last
        self.tapped: dict[RecordNode, str] = {}
        self.outputs: list[RecordNode] = []

    # --- where the user's code is
    def site_and_scope(self) -> tuple[tuple | None, int | None]:
        """((code, line), scope) of the user's line that is running now; (None, None) outside the user's code."""
        frame = sys._getframe(3)
        boundary = self.boundary
        known = _is_library.get
        while frame is not None and frame is not boundary:
            library = known(frame.f_code)
            if library is None:
                library = _library(frame.f_code)
            if not library:
                break
            frame = frame.f_back
        if frame is None or frame is boundary:
            return None, None
        scope = self._scope_of_frame.get(frame, -1)
        return (frame.f_code, frame.f_lineno), (scope if scope != -1 else self._scope(frame))

    def _scope(self, frame: types.FrameType) -> int | None:
        """The scope of a user frame: made the first time a node comes from it, then looked up."""
        scope = self._scope_of_frame.get(frame, -1)
        if scope != -1:
            return scope
        caller = frame.f_back
        while caller is not None and caller is not self.boundary and _library(caller.f_code):
            caller = caller.f_back
        parent = None if caller is None or caller is self.boundary else self._scope(caller)
        code = frame.f_code
        scope = len(self.scopes)
        called = caller is not None and caller is not self.boundary
        call_line, call_offset = (caller.f_lineno, caller.f_lasti) if called else (None, None)
        self.scopes.append(Scope(scope, code.co_name, code.co_filename, code.co_firstlineno, call_line, parent,
                                 call_offset))
        self._scope_of_frame[frame] = scope  # holds the frame, so its identity stays unique while recording
        return scope

    # --- constants that primitives were given
    def constant_id(self, value: Any) -> int | None:
        """A node id for an array or float constant argument (one per object), or None for other arguments."""
        if not isinstance(value, (np.ndarray, np.generic, float, complex)) or isinstance(value, (bool, np.bool_)):
            return None
        known = self.constants.get(id(value))
        if known is not None and known[1] is value:
            return known[0]
        node_id = next(self.ids)
        self.constants[id(value)] = (node_id, value)  # keeping the value keeps its id unique
        site, scope = self.site_and_scope()
        self.constant_records.append((node_id, self.brief(value, self.keep_values), site, scope))
        return node_id

    def brief(self, value: Any, keep: bool, remember: bool = True) -> Any:
        """A real scalar as it is (cheap to keep; summarised later), anything else summarised now, once per object:
        an array is often a node's value and an item of its container too, or sent to two parents as it is.

        Forward values are remembered (the graph holds them anyway); backward values only within one step, so
        that the record never keeps a gradient alive longer than the backward pass would.
        """
        if type(value) in _SCALARS:
            return value
        if type(value) is ItemGrads:  # a container's gradient with only some items: the others are zeros
            return self._item_grads_summary(value, keep)
        if type(value) is IndexedGrad:  # a sparse gradient is summarised as the array it stands for
            value = value.dense()
        known = self._summaries.get((id(value), keep))
        if known is not None and known[0] is value:
            return known[1]
        summary = summarize(value, keep)
        if remember:
            self._summaries[(id(value), keep)] = (value, summary)  # the value held, so its id stays its own
        return summary

    def _item_grads_summary(self, grads: ItemGrads, keep: bool) -> Summary:
        """The summary of the dense container ``grads`` stands for, without making the zero items."""
        container = grads.container
        keys = container.keys() if isinstance(container, dict) else range(len(container))
        items = {}
        for key in keys:
            if key in grads.items:
                item = self.brief(grads.items[key], keep, remember=False)
                items[key] = item if type(item) is Summary else summarize(item, keep)
            else:
                items[key] = _zeros_summary(container[key])
        kind = "dict" if isinstance(container, dict) else type(container).__name__
        return Summary(kind if kind in ("tuple", "list", "dict") else "tuple", (len(items),), items=items)

    # --- the observer of make_vjp and of the backward pass
    def traced(self, end_node: Any) -> None:
        """A (nested) trace finished with ``end_node`` as its output."""
        self.outputs.append(end_node)

    def begin_step(self, node: Any) -> None:
        self.running.append(node)

    def end_step(self, node: Any, outgrad: Any, sent: list) -> None:
        self.running.pop()
        keep = self.keep_values
        arrived = self.arrived.pop(node, None)
        if arrived is None:  # the end node: what arrived is the cotangent the pass started with
            summary = self.brief(outgrad, keep or node in self.tapped, remember=False)
            arrived = [(None, None, summary)]
        elif (len(arrived) == 1 and self._only_arrival.pop(node, None) is outgrad
              and (keep or node not in self.tapped)):
            summary = arrived[0][2]  # one contribution, passed on as it is: its summary is the sum's
        else:
            self._only_arrival.pop(node, None)
            summary = self.brief(outgrad, keep or node in self.tapped, remember=False)
        sent_records = []
        arrivals, only_arrival, node_id = self.arrived, self._only_arrival, node.id
        in_step: dict[int, Any] = {}  # what this VJP sent: the same array to two parents is summarised once
        for argnum, parent, ingrad in sent:
            ingrad_summary = in_step.get(id(ingrad)) if in_step else None
            if ingrad_summary is None:
                ingrad_summary = in_step[id(ingrad)] = self.brief(ingrad, keep, remember=False)
            sent_records.append((argnum, parent.id, ingrad_summary))
            known = arrivals.get(parent)
            if known is None:
                arrivals[parent] = [(node_id, argnum, ingrad_summary)]
                only_arrival[parent] = ingrad
            else:
                known.append((node_id, argnum, ingrad_summary))
        self.steps.append((node, arrived, summary, sent_records))

    def release(self) -> None:
        """Drop the values the graph held for the backward pass: the record keeps summaries and descriptions.

        Each node's ``args`` become descriptions: None for a traced argument, {"constant": id} for a constant
        node, {"repr": text} for anything else (an axis, a shape, a string). With ``keep_recipes``, the plain
        recipes are kept first, in ``recipes``.
        """
        if self.keep_recipes:
            self.recipes = {node.id: Recipe(node.fun, [getval(arg) for arg in node.args], dict(node.kwargs),
                                            tuple(node.argnums), getval(node.value))
                            for node in self.nodes if node.fun is not None and node.args is not None}
        for node in self.nodes:
            constants = node.constant_args
            if constants is None:
                node.args = None
            else:
                node.args = [None if i not in constants else
                             {"constant": constants[i]} if constants[i] is not None else argument_repr(arg)
                             for i, arg in enumerate(node.args)]
            node.value = None
        self._scope_of_frame.clear()  # and the frames (with their locals)
        self._only_arrival.clear()
        self.constants.clear()  # the constant arrays themselves (their summaries stay)
        self._summaries.clear()
        self.boundary = None

    def describe(self, node: Any) -> str | None:
        site = getattr(node, "site", None)
        if site is None:
            return None
        code, line = site
        return f"{code.co_filename}:{line} in {code.co_name}"


@dataclass(slots=True)
class Recipe:
    """How one node's value was made, with plain values: enough to call its primitive and its rules again."""

    fun: Any  # the Primitive
    args: list  # every positional argument, unboxed (traced ones at their recorded values)
    kwargs: dict
    argnums: tuple  # which arguments were traced
    value: Any  # the primitive's output


class RecordNode(VJPNode):
    """A reverse-mode node that also notes where it was made (for the record).

    ``site`` is (code object, line) of the user's line; ``summary`` is a Summary, or the value itself for a real
    scalar (summarised when the record is read); ``constant_args`` maps argnums to constant node ids.
    """

    __slots__ = ("site", "scope", "made_by", "summary", "constant_args", "kwarg_reprs")

    def __init__(self, value, fun, args, kwargs, argnums, parents, level) -> None:
        recorder = _state.recorder
        if len(args) > len(argnums):  # the constants first, so that they are numbered before this node
            self.constant_args = {i: recorder.constant_id(arg) for i, arg in enumerate(args) if i not in argnums}
        else:
            self.constant_args = None
        self.kwarg_reprs = {key: argument_repr(value) for key, value in kwargs.items()} if kwargs else None
        VJPNode.__init__(self, value, fun, args, kwargs, argnums, parents, level)
        self.site, self.scope = recorder.site_and_scope()
        running = recorder.running
        self.made_by = running[-1].id if running else None
        self.summary = recorder.brief(value, recorder.keep_values)
        recorder.nodes.append(self)

    @classmethod
    def new_ids(cls):
        return _state.recorder.ids  # one numbering for every trace in the record

    @classmethod
    def root(cls, value: Any, level: Any) -> RecordNode:
        node = super().root(value, level)
        recorder = _state.recorder
        node.constant_args = node.kwarg_reprs = None
        node.site, node.scope = recorder.site_and_scope()
        node.made_by = recorder.running[-1].id if recorder.running else None
        node.summary = recorder.brief(value, recorder.keep_values)
        recorder.nodes.append(node)
        return node


_SCALARS = frozenset({float, np.float64, np.float32, np.float16})


def _zeros_summary(like: Any) -> Summary:
    """The summary of zeros shaped like ``like`` (an item no gradient reached), made without the zeros."""
    if isinstance(like, (tuple, list, dict)):
        keys = like.keys() if isinstance(like, dict) else range(len(like))
        kind = "dict" if isinstance(like, dict) else type(like).__name__
        return Summary(kind if kind in ("tuple", "list", "dict") else "tuple", (len(like),),
                       items={key: _zeros_summary(like[key]) for key in keys})
    shape = np.shape(like)
    key = (shape, np.result_type(like))
    known = _ZEROS.get(key)
    if known is None:
        # Zeros have the same statistics at any size: summarise a few of them (of the item's dtype), with its shape.
        known = summarize(np.zeros(min(math.prod(shape), HEAD), key[1]))
        known.shape = shape
        if len(_ZEROS) < 4096:
            _ZEROS[key] = known
    return replace(known, head=list(known.head))  # a container's untouched items are summarised once per step


_ZEROS: dict[tuple, Summary] = {}  # (shape, dtype) -> the summary of zeros of that shape and dtype


def argument_repr(value: Any) -> dict:
    """A constant argument as text: short, and never the user's raw object."""
    value = getval(value)
    if isinstance(value, np.ndarray):
        return {"repr": f"array {describe(value)}"}
    try:
        text = repr(value)
    except Exception as error:  # a user object whose repr fails must not break the record
        text = f"<{type(value).__name__}: repr failed ({type(error).__name__})>"
    return {"repr": text if len(text) <= 80 else text[:77] + "..."}


class _State(threading.local):
    recorder: Recorder | None = None


_state = _State()


def active_recorder() -> Recorder | None:
    return _state.recorder


@contextmanager
def recording(recorder: Recorder):
    """Make this thread's reverse-mode traces record into ``recorder`` (nested recordings are not supported)."""
    if _state.recorder is not None:
        raise RuntimeError("gradviz.trace can't run inside another gradviz.trace; trace the outer function only.")
    session = backward.session
    saved = session.node_type, session.observer
    _state.recorder = recorder
    session.node_type, session.observer = RecordNode, recorder
    try:
        yield recorder
    finally:
        session.node_type, session.observer = saved
        _state.recorder = None
        recorder.release()
