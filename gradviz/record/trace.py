"""The record of one gradient: the forward graph, the user's code behind it, and every backward step.

``gradviz.trace(fun, *args)`` runs ``fun`` with recording on, then the backward pass from its output, and returns
a ``Trace``: plain data (node records, step records, scopes, summaries) that the renderer and the debugger read,
that prints as a text listing, and that round-trips through JSON.
"""

from __future__ import annotations

import gc
import linecache
import sys
from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from ..core.backward import ancestors, pull_back, trace_reverse
from ..core.differential_operators import check_input, check_real_scalar
from ..core.gcpause import gc_paused
from ..core.tracer import box_types, getval
from ..core.vspace import describe, vspace
from ..core.wrap_util import subvals
from .recorder import Recorder, RecordNode, Scope, Site, recording
from .summary import SCALAR_DTYPES, Summary, scalar_summary, summarize

__all__ = ["Trace", "NodeRecord", "StepRecord", "Arrival", "Sent", "trace", "tap"]


@dataclass(slots=True)
class NodeRecord:
    """One node of the forward graph.

    ``args`` has one entry per positional argument: ``{"node": id}`` for a traced one (also in ``parents``),
    ``{"constant": id}`` for an array or float constant (a node of role "constant"), else ``{"repr": text}``.
    """

    id: int
    primitive: str | None
    role: str  # "input", "operation", "output" or "constant"
    parents: list[tuple[int, int]]  # (argnum, parent id)
    args: list[dict]
    kwargs: dict[str, dict]
    value: Summary
    site: Site | None
    code: str | None  # the text of the user's line
    scope: int | None
    on_path: bool
    level: int
    made_by: int | None  # the node whose backward step (in an inner trace) made this node
    name: str | None = None  # from gradviz.tap


@dataclass(slots=True)
class Arrival:
    """An outgrad contribution: what ``child``'s VJP (for its argument ``argnum``) sent to a node."""

    child: int | None  # None for the cotangent the backward pass starts with
    argnum: int | None
    value: Summary


@dataclass(slots=True)
class Sent:
    """What a node's VJP sent to one parent."""

    argnum: int
    parent: int
    value: Summary


@dataclass(slots=True)
class StepRecord:
    """One step of a backward pass: the outgrads that reached ``node``, their sum, and what its VJP sent on."""

    index: int
    node: int
    level: int
    arrived: list[Arrival]
    outgrad: Summary
    sent: list[Sent]


class Trace:
    """The record of one traced gradient. ``value`` and ``grad`` are what value_and_grad returns.

    ``nodes`` (in forward order) and ``steps`` (in the order run) are built from the recorder's notes the first
    time they are read, so recording itself stays cheap.
    """

    def __init__(self, function: str, argnum: int | tuple, value: Any, grad: Any, nodes: list[NodeRecord] | None,
                 steps: list[StepRecord] | None, scopes: list[Scope], keep_values: bool = False,
                 recorder: Recorder | None = None) -> None:
        self.function, self.argnum, self.value, self.grad = function, argnum, value, grad
        self.scopes, self.keep_values = scopes, keep_values
        self._nodes, self._steps, self._recorder = nodes, steps, recorder
        self._by_id: dict[int, NodeRecord] | None = None
        # What the debugger found, by node id: [{"kind", "status", "message", ...}]; the renderer draws it.
        self.annotations: dict[int, list[dict]] = {}
        # (fun, args, kwargs, argnum) of the traced call, so that a check can run it again; None from JSON.
        self.call: tuple | None = None
        # node id -> Recipe (primitive, plain args, kwargs, value), when traced with keep_recipes=True.
        self.recipes: dict | None = None

    @property
    def nodes(self) -> list[NodeRecord]:
        if self._nodes is None:
            self._nodes, self._steps = _build(self._recorder)
            self._recorder = None
        return self._nodes

    @property
    def steps(self) -> list[StepRecord]:
        if self._steps is None:
            self.nodes  # noqa: B018 (builds both)
        return self._steps

    def node(self, node_id: int) -> NodeRecord:
        if self._by_id is None:
            self._by_id = {node.id: node for node in self.nodes}
        return self._by_id[node_id]

    def find(self, name: str) -> NodeRecord:
        """The node labelled ``name`` with gradviz.tap."""
        for node in self.nodes:
            if node.name == name:
                return node
        names = sorted({node.name for node in self.nodes if node.name})
        raise KeyError(f"no node is tapped {name!r}; the tapped names are {names}")

    def grad_of(self, name: str) -> Any:
        """The gradient (summed outgrad) that reached the node tapped ``name``; None if none reached it."""
        step = self.step_of(self.find(name).id)
        return None if step is None else step.outgrad.value

    def step_of(self, node_id: int) -> StepRecord | None:
        for step in self.steps:
            if step.node == node_id:
                return step
        return None

    def scope_chain(self, scope: int | None) -> list[Scope]:
        """The scopes from the traced function down to ``scope``."""
        chain = []
        while scope is not None:
            chain.append(self.scopes[scope])
            scope = self.scopes[scope].parent
        return chain[::-1]

    def __str__(self) -> str:
        from .listing import listing

        return listing(self)

    def __repr__(self) -> str:
        return (f"<Trace of {self.function}: {len(self.nodes)} nodes, {len(self.steps)} backward steps; "
                "print() it for the listing>")

    # --- the renderer and the debugger read the trace; these methods only hand it to them (imported when used)
    def to_dot(self, view: str = "forward", **options: Any) -> Any:
        """The graph as a ``graphviz.Digraph`` (``view`` "forward" or "backward"); see gradviz.render.dot."""
        from ..render.dot import to_dot

        return to_dot(self, view=view, **options)

    def render(self, path: str, view: str = "forward", **options: Any) -> str:
        """Write the graph to ``path`` (.svg, .png, .pdf) with the system Graphviz; returns the path written."""
        from ..render.dot import render

        return render(self, path, view=view, **options)

    def save_html(self, path: str, **options: Any) -> str:
        """Write one self-contained interactive HTML file (no kernel, no network); returns the path written."""
        from ..render.html import save_html

        return save_html(self, path, **options)

    def widget(self, **options: Any) -> Any:
        """The interactive widget for a notebook."""
        from ..render.widget import TraceWidget

        return TraceWidget(self, **options)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict:
        from ..render.widget import mimebundle

        return mimebundle(self, include=include, exclude=exclude)

    def check(self, **options: Any) -> Any:
        """Check every node's VJP at its recorded values; see gradviz.debug.check."""
        from ..debug.check import check_trace

        return check_trace(self, **options)

    def nonfinite(self) -> Any:
        """Where the first NaN or Inf was born, forward and backward; see gradviz.debug.nonfinite."""
        from ..debug.nonfinite import nonfinite

        return nonfinite(self)

    def flow(self, **options: Any) -> Any:
        """Outgrad norms per node and per scope, with vanishing and exploding flags; see gradviz.debug.flow."""
        from ..debug.flow import gradient_flow

        return gradient_flow(self, **options)

    def to_json(self, **dump_kwargs: Any) -> str:
        """The trace as JSON, in the versioned schema of docs/trace-schema.md."""
        from .serialize import to_json

        return to_json(self, **dump_kwargs)

    @classmethod
    def from_json(cls, text: str) -> Trace:
        from .serialize import from_json

        return from_json(text)


def tap(x: Any, name: str) -> Any:
    """``x``, with its node labelled ``name`` in the trace being recorded (a no-op otherwise).

    Read it back with ``Trace.find(name)`` and ``Trace.grad_of(name)``; the renderer shows the name.
    """
    if not isinstance(name, str):
        raise TypeError(f"tap: the name must be a str, not {type(name).__name__}")
    if type(x) in box_types and isinstance(x._node, RecordNode):
        from .recorder import active_recorder

        recorder = active_recorder()
        if recorder is not None:
            recorder.tapped[x._node] = name
    return x


def trace(fun: Callable, *args: Any, argnum: int | tuple[int, ...] = 0, cotangent: Any = None,
          backward: bool = True, keep_values: bool = False, keep_recipes: bool = False, **kwargs: Any) -> Trace:
    """Run ``fun(*args, **kwargs)`` with recording on, then the backward pass from its output; return the Trace.

    The output must be a real scalar unless a ``cotangent`` (of the output's shape) is given; ``backward=False``
    records the forward graph alone. ``keep_values=True`` keeps every value and outgrad, not only summaries.
    ``keep_recipes=True`` keeps each node's primitive, plain arguments and value in ``Trace.recipes`` (node id ->
    Recipe), so that ``Trace.check()`` need not run the function again.
    """
    argnums = (argnum,) if isinstance(argnum, int) else tuple(argnum)
    x = args[argnum] if isinstance(argnum, int) else tuple(args[i] for i in argnums)

    def fun_of_x(x_box: Any) -> Any:
        replacements = [(argnum, x_box)] if isinstance(argnum, int) else zip(argnums, x_box)
        return fun(*subvals(args, replacements), **kwargs)

    fun_of_x.__name__, fun_of_x.argnum = getattr(fun, "__name__", type(fun).__name__), argnum
    check_input("trace", fun_of_x, x)
    space = vspace(x)
    recorder = Recorder(keep_values, sys._getframe(), keep_recipes)
    grad = None
    with recording(recorder):
        start, value, end = trace_reverse(fun_of_x, x)
        if backward:
            grad = space.zeros() if end is None else pull_back(
                _cotangent(fun_of_x, value, cotangent), start, end, space, recorder)
    recorded = Trace(fun_of_x.__name__, argnum, getval(value), grad, None, None, recorder.scopes, keep_values,
                     recorder)
    recorded.call = (fun, args, kwargs, argnum)
    recorded.recipes = recorder.recipes
    return recorded


_NEEDS_COTANGENT = ("Pass cotangent= (an array of the output's shape) to start the backward pass, or backward=False "
                    "for the forward graph alone.")


def _cotangent(fun: Callable, value: Any, cotangent: Any) -> Any:
    if cotangent is None:
        check_real_scalar("trace", fun, value, not_scalar=_NEEDS_COTANGENT, not_real=_NEEDS_COTANGENT)
        return vspace(value).ones()
    if vspace(cotangent) != vspace(value):
        raise ValueError(f"trace of {fun.__name__}: the cotangent is {describe(cotangent)} but the output is "
                         f"{describe(value)}; they must match.")
    return cotangent


def _build(recorder: Recorder) -> tuple[list[NodeRecord], list[StepRecord]]:
    """The node and step records from the recorder's notes.

    Written for speed (a 100k-node trace is read in about 0.7 s; the renderer's first view waits for it): one pass
    over the nodes and one over the steps, the collector paused, a Summary made once per recorded value (a value
    sent by one step arrives at the next as the same object, so it gets the same Summary), and a Site and the
    code text looked up once per line of code.
    """
    with gc_paused():  # a million new objects, none in a cycle: the collector would rescan them again and again
        built = _build_records(recorder)
        promote_to_oldest()
        return built


def promote_to_oldest() -> None:
    """Move every object the collector tracks into its oldest generation without scanning them.

    Objects made while the collector was paused all sit in the youngest generation; the first collection after
    the pause would visit every one of them (a quarter of a second for a 100k-node trace), and the next ones again
    as they age. Freezing and unfreezing at once moves them to the oldest generation, which is scanned only by the
    rare full collections (garbage among them is still found then). Skipped when something else has frozen
    objects (gc.freeze is theirs to undo).
    """
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()


def _build_records(recorder: Recorder) -> tuple[list[NodeRecord], list[StepRecord]]:
    outputs = set(recorder.outputs)
    on_path = ancestors(recorder.outputs)
    keep = recorder.keep_values
    tapped = recorder.tapped
    sites: dict[tuple, tuple[Site, str | None]] = {}
    summaries: dict[int, Summary] = {}  # id(recorded value) -> its Summary; the recorder keeps the values alive
    known_summary = summaries.get

    def summary_of(brief: Any) -> Summary:
        known = known_summary(id(brief))  # (a Summary brief is never a key: the keys are other live objects)
        if known is not None:
            return known
        if type(brief) is Summary:
            return brief
        dtype = SCALAR_DTYPES.get(type(brief))
        if dtype is None:
            known = summarize(brief)
        else:  # scalar_summary written out for a finite scalar: scalar code makes one per primitive
            x = float(brief)
            known = (Summary("array", (), dtype, x, x, x, abs(x), 0, 0, [x], None, None) if x - x == 0
                     else scalar_summary(brief, dtype))
        summaries[id(brief)] = known
        return known

    def kept_summary_of(brief: Any) -> Summary:  # with the value (keep_values=True, or a tapped node's outgrad)
        return brief if type(brief) is Summary else summarize(brief, keep=True)

    value_of = kept_summary_of if keep else summary_of
    no_site = (None, None)

    def site_of(site: tuple | None) -> tuple[Site | None, str | None]:
        if site is None:
            return no_site
        known = sites.get(site)
        if known is None:
            code, line = site
            known = sites[site] = (Site(code.co_filename, line, code.co_name),
                                   linecache.getline(code.co_filename, line).strip() or None)
        return known

    records = []
    append = records.append
    for node_id, brief, site, scope in recorder.constant_records:
        place, text = site_of(site)
        append(NodeRecord(node_id, None, "constant", [], [], {}, value_of(brief), place, text, scope, False, 0, None))
    get_site, get_name = sites.get, tapped.get
    for node in recorder.nodes:
        fun = node.fun
        parent_nodes = node.parents
        if fun is None:
            role, primitive = "input", None
        else:
            role, primitive = ("output" if node in outputs else "operation"), fun.qualname
        if len(parent_nodes) == 1:  # the common case, without zip
            parent_id = parent_nodes[0].id
            parents = [(node.argnums[0], parent_id)]
            if node.args is None:
                args = [{"node": parent_id}]
            else:
                args = [{"node": parent_id} if arg is None else arg for arg in node.args]
        else:
            parent_ids = [parent.id for parent in parent_nodes]
            parents = list(zip(node.argnums, parent_ids))
            if node.args is None:  # every argument traced
                args = [{"node": parent_id} for parent_id in parent_ids]
            else:
                traced = dict(parents)
                args = [{"node": traced[i]} if arg is None else arg for i, arg in enumerate(node.args)]
        site = node.site
        place = get_site(site) if site is not None else no_site
        if place is None:
            place = site_of(site)
        brief = node.summary
        if type(brief) is float and not keep and brief - brief == 0:  # summary_of of a new finite float, inlined
            value = known_summary(id(brief))
            if value is None:
                value = summaries[id(brief)] = Summary("array", (), "float64", brief, brief, brief, abs(brief), 0, 0,
                                                       [brief], None, None)
        else:
            value = value_of(brief)
        append(NodeRecord(node.id, primitive, role, parents, args, node.kwarg_reprs or {}, value, place[0], place[1],
                          node.scope, node in on_path, node.level.depth, node.made_by, get_name(node)))
    if recorder.constant_records:  # both lists are in id order: merge them
        records.sort(key=_record_id)
    steps = []
    append = steps.append
    for i, (node, arrived, outgrad, sent) in enumerate(recorder.steps):
        if len(arrived) == 1:  # what arrives was sent by an earlier step: its summary is known (unless kept)
            child, argnum, part = arrived[0]
            arrivals = [Arrival(child, argnum, known_summary(id(part)) or value_of(part))]
        else:
            arrivals = [Arrival(child, argnum, value_of(part)) for child, argnum, part in arrived]
        if len(sent) == 1:
            argnum, parent, part = sent[0]
            if type(part) is float and not keep and part - part == 0:  # summary_of of a finite float, inlined
                value = known_summary(id(part))
                if value is None:
                    value = summaries[id(part)] = Summary("array", (), "float64", part, part, part, abs(part), 0, 0,
                                                          [part], None, None)
            else:
                value = value_of(part)
            sends = [Sent(argnum, parent, value)]
        else:
            sends = [Sent(argnum, parent, value_of(part)) for argnum, parent, part in sent]
        total = kept_summary_of(outgrad) if node in tapped else (known_summary(id(outgrad)) or value_of(outgrad))
        append(StepRecord(i, node.id, node.level.depth, arrivals, total, sends))
    return records, steps


_record_id = attrgetter("id")


