"""The view model: one JSON-ready dict per trace that the DOT builder, the widget and the HTML export all draw.

It is made from the Trace's public records only. Nodes are grouped by the user's function calls (one "call" group
per Scope, nested), repeated loop iterations are folded into "loop" groups, the nodes an inner backward pass made
(grad of grad) go into a "vjp" group under the node whose VJP made them, and a budget picks which groups start
collapsed so that the first view stays small. See /work/notes/render-spec.md for the contract.

Loop folding. In each group the items (its own nodes and its child calls, in the order they were made) have a
line (a node's line; a call's call line) and a key (line and primitive; call line and function). A loop is looked
for where the line does not advance (it jumps back, or stays on one line): the body is the stretch from an
earlier item with the same key (within the run of items whose lines are at least this one's), and the loop is as
many back-to-back copies of that body's keys as follow. The body giving the most coverage wins. Two copies make a
loop when the body holds a call (a call's key has its bytecode offset, which only a loop runs twice) or spans
lines; a body of nodes on one line needs three (two alike nodes on one line, as in ``x[1:] * x[:-1]``, are no
loop). Folding repeats on the folded sequence, so loops nest. A loop with more than FANOUT iterations is split into
nested "loop" groups of at most FANOUT children each, so that expanding any group shows at most about FANOUT boxes.

Nodes. ``parents`` lists the constants a node was given as well as its traced arguments (in argument order), so
that constants are drawn connected; the steps send only to traced parents. Summaries leave out null values and
zero NaN/Inf counts, but keep numbers that are 0.0 (a min of 0 is information).

Budget. The root is expanded, every other group starts collapsed; groups are then expanded breadth-first (by
depth, in order) whenever the visible count (visible nodes + collapsed boxes) stays within the budget; a group
that does not fit stays collapsed and its subgroups are not tried.

Two forms. One build pass makes the wire form (view_model_wire, docs/view-schema.md): columns of numbers, each
summary once in a table, derivable fields left out, so that a 100,000-node model is about 11 MB of JSON that the
browser parses in a tenth of a second (the object form of the same trace is over 90 MB). ``expand`` turns it into
the object form (one dict per node, step and group), which view_model returns and to_dot reads; the browser's
js/src/decode.js does the same expansion, and the tests check that the two agree.
"""

from __future__ import annotations

import json
import linecache
import os
from collections import deque
from operator import attrgetter
from typing import Any

from ..core.gcpause import gc_paused
from ..record.summary import Summary, summarize

__all__ = ["view_model", "view_model_wire", "view_model_json", "expand", "SCHEMA", "VERSION", "FANOUT",
           "summary_json", "number_json"]

SCHEMA = "gradviz.view"
VERSION = 2  # the wire form's version; the object form (what view_model returns) is version 1
FANOUT = 100  # most children a loop group gets (more iterations are split into nested loop groups)
WINDOW = 256  # longest loop body (in items) looked for
ROOT = -1  # the key of the root group's items (the traced function's scope, and nodes outside any scope)


def view_model(trace: Any, budget: int = 300) -> dict:
    """The view model of ``trace`` in the object form (see the module docstring and the render spec); strict-JSON
    ready. This is the wire form (view_model_wire) expanded, as the browser's decoder expands it."""
    return expand(view_model_wire(trace, budget))


def view_model_wire(trace: Any, budget: int = 300) -> dict:
    """The view model in the compact wire form the browser reads (docs/view-schema.md); strict-JSON ready."""
    with gc_paused():  # a few hundred thousand new lists and numbers, no cycles among them
        return _Builder(trace, budget).build()


def view_model_json(trace: Any, budget: int = 300) -> str:
    """The wire form as strict JSON text (what the widget sends and the HTML export embeds)."""
    model = view_model_wire(trace, budget)
    with gc_paused():
        return json.dumps(model, allow_nan=False, ensure_ascii=False, separators=(",", ":"))


# --- numbers and summaries as strict JSON

def number_json(x: Any) -> Any:
    """A number for strict JSON: non-finite floats become "nan", "inf", "-inf"; complex [re, im] pairs kept."""
    if type(x) is float:
        if x - x == 0:
            return x
        return "nan" if x != x else ("inf" if x > 0 else "-inf")
    if isinstance(x, (list, tuple)):
        return [number_json(part) for part in x]
    if isinstance(x, complex):
        return [number_json(x.real), number_json(x.imag)]
    if x is None or isinstance(x, (bool, int, str)):
        return x
    return number_json(float(x))


def summary_json(summary: Summary, types: dict | None = None) -> dict:
    """A Summary as the view model's <summary>: keys with null, 0 or empty values left out."""
    if summary.items is not None:
        return {"type": summary.type_str(),
                "items": [[str(key), summary_json(item, types)] for key, item in summary.items.items()]}
    if not summary.shape and not summary.nan and not summary.inf:  # a finite scalar: the fast path
        norm = summary.norm
        if norm is not None and norm - norm == 0 and summary.kind == "array":
            kind = None if types is None else types.get(summary.dtype)
            if kind is None:
                kind = summary.type_str()
                if types is not None:
                    types[summary.dtype] = kind
            return {"type": kind, "min": summary.min, "max": summary.max, "mean": summary.mean, "norm": norm,
                    "head": list(summary.head)}
    if types is None:
        kind = summary.type_str()
    else:
        type_key = (summary.kind, summary.dtype, summary.shape)
        kind = types.get(type_key)
        if kind is None:
            kind = types[type_key] = summary.type_str()
    if not summary.nan and not summary.inf and summary.dtype in _REAL and summary.min is not None:
        # A real array without NaN or Inf: its head holds finite numbers, min and max are finite; the mean and the
        # norm can still overflow to inf.
        mean, norm = summary.mean, summary.norm
        if mean - mean == 0 and norm - norm == 0:
            out = {"type": kind, "min": summary.min, "max": summary.max, "mean": mean, "norm": norm}
            if summary.head:
                out["head"] = list(summary.head)
            return out
    out: dict = {"type": kind}
    for name in ("min", "max", "mean", "norm"):
        x = getattr(summary, name)
        if x is not None:
            out[name] = x if type(x) is float and x - x == 0 else number_json(x)
    if summary.nan:
        out["nan"] = summary.nan
    if summary.inf:
        out["inf"] = summary.inf
    head = summary.head
    if head:
        if len(head) == 1 and type(head[0]) is float and head[0] - head[0] == 0:
            out["head"] = [head[0]]
        else:
            out["head"] = [number_json(v) for v in head]
    return out


_REAL = frozenset({"float64", "float32", "float16", "int64", "int32", "int16", "int8", "uint64", "uint32", "uint16",
                   "uint8"})


def _short_op(node: Any) -> str:
    if node.primitive is None:
        return node.role
    return node.primitive.rsplit(".", 1)[-1]


class _Builder:
    """Builds the model in a few linear passes; ``group_of`` (node id -> group id) is the main product."""

    def __init__(self, trace: Any, budget: int) -> None:
        self.trace, self.budget = trace, int(budget)
        self.groups: list[dict] = []
        self.children: list[list[int]] = []
        self.direct: list[int] = []  # nodes placed directly in each group
        self.group_of: dict[int, int] = {}
        self.sites: list[dict] = []
        self.site_index: dict[tuple, int] = {}
        self.call_labels: dict[tuple, str] = {}

    # --- sites
    def _site(self, file: str, line: int, function: str, code: str | None) -> int:
        key = (file, line, function)
        index = self.site_index.get(key)
        if index is None:
            index = self.site_index[key] = len(self.sites)
            self.sites.append({"file": file, "line": line, "function": function, "code": code})
        return index

    # --- groups
    def _group(self, kind: str, label: str, parent: int | None, **optional: Any) -> int:
        gid = len(self.groups)
        group = {"id": gid, "kind": kind, "label": label, "parent": parent, "size": 0, "collapsed": False}
        group.update(optional)
        self.groups.append(group)
        self.children.append([])
        self.direct.append(0)
        if parent is not None:
            self.children[parent].append(gid)
        return gid

    def build(self) -> dict:
        trace = self.trace
        nodes = trace.nodes
        steps = trace.steps
        scopes = trace.scopes
        root_scope = next((scope.id for scope in scopes if scope.parent is None), None)

        def scope_key(scope: int | None) -> int:
            return ROOT if scope is None or scope == root_scope else scope

        # 1. the items of each scope, in the order they were made: node and call elements (see _fold_once)
        items: dict[int, list] = {ROOT: []}
        constants, made_by_vjp = [], []
        node_keys: dict[tuple, tuple] = {}  # one key object per (line, primitive): compared by identity first
        for node in nodes:
            if node.role == "constant":
                constants.append(node)
                continue
            if node.made_by is not None:
                made_by_vjp.append(node)
                continue
            key = node.scope
            if key is None or key == root_scope:
                key = ROOT
            own = items.get(key)
            if own is None:
                chain = []
                while key not in items:
                    chain.append(key)
                    key = scope_key(scopes[key].parent)
                for scope_id in reversed(chain):  # register the calls outermost first
                    items[key].append(_call_element(scopes[scope_id]))
                    items[scope_id] = []
                    key = scope_id
                own = items[key]
            site = node.site
            line = site.line if site is not None else -1
            node_key = (line, node.primitive, node.level)  # (grad of grad interleaves two levels on a line)
            element_key = node_keys.get(node_key)
            if element_key is None:
                element_key = node_keys[node_key] = ("n", *node_key)
            own.append(("n", node, element_key, line, line, line))

        # 2. the groups, top-down (a group's id is below its children's)
        root_label = trace.function
        root_file = None
        root_options: dict = {}
        if root_scope is not None:
            scope = scopes[root_scope]
            root_file = scope.file
            root_label = self._call_label(scope)
            root_options["site"] = self._def_site(scope)
        self._group("root", root_label, None, **root_options)
        queue = deque([(items[ROOT], 0, root_file, True)])
        group_of, direct = self.group_of, self.direct
        unfolded: set[tuple] = set()
        while queue:  # (elements, group, file, fold): a loop's iterations were folded with the sequence they are in
            elements, gid, file, fold = queue.popleft()
            for element in (_fold(elements, unfolded) if fold else elements):
                if element[0] == "n":
                    group_of[element[1].id] = gid
                    direct[gid] += 1
                else:
                    self._place(element, gid, file, items, scopes, queue)

        # 3. the nodes of inner backward passes: a "vjp" group per node whose VJP made them
        group_of = self.group_of
        vjp_group: dict[int, int] = {}
        by_id = {node.id: node for node in made_by_vjp} if made_by_vjp else {}
        for node in made_by_vjp:
            maker = node.made_by
            gid = vjp_group.get(maker)
            if gid is None:
                maker_node = by_id.get(maker) or trace.node(maker)
                gid = vjp_group[maker] = self._group(
                    "vjp", f"VJP of %{maker} {_short_op(maker_node)}", group_of.get(maker, 0), made_by=maker)
            group_of[node.id] = gid
            self.direct[gid] += 1

        # 4. constants: in the group of their first user
        if constants:
            first_user: dict[int, int] = {}
            for node in nodes:
                if node.role != "constant" and node.args:
                    for arg in node.args:
                        ref = arg.get("constant")
                        if ref is not None and ref not in first_user:
                            first_user[ref] = group_of[node.id]
            for node in constants:
                gid = first_user.get(node.id, 0)
                group_of[node.id] = gid
                self.direct[gid] += 1

        # 5. sizes (children have larger ids than their parents) and the budget
        groups = self.groups
        sizes = list(self.direct)
        for gid in range(len(groups) - 1, 0, -1):
            sizes[groups[gid]["parent"]] += sizes[gid]
        for gid, group in enumerate(groups):
            group["size"] = sizes[gid]
        self._collapse()

        # 6. nodes and steps, as columns
        self.refs: dict[int, int] = {}
        self.values: list = []
        self.types: dict = {}
        wire_nodes = self._wire_nodes(nodes)
        wire_steps = self._wire_steps(steps)
        return {
            "schema": SCHEMA, "version": VERSION, "function": trace.function,
            "argnum": list(trace.argnum) if isinstance(trace.argnum, tuple) else trace.argnum,
            "value": summary_json(summarize(trace.value)), "budget": self.budget,
            "levels": 1 + max((node.level for node in nodes), default=0),
            "sites": [[site["file"], site["line"], site["function"], site["code"]] for site in self.sites],
            "primitives": self.primitives,
            "summaries": self.values,
            "groups": _wire_groups(groups),
            "nodes": wire_nodes,
            "steps": wire_steps,
        }

    def _def_site(self, scope: Any) -> int:
        index = self.site_index.get((scope.file, scope.line, scope.function))
        if index is not None:
            return index
        return self._site(scope.file, scope.line, scope.function,
                          linecache.getline(scope.file, scope.line).strip() or None)

    def _call_label(self, scope: Any) -> str:
        """"layer  model.py:12" (the function and where it is defined): one string per function."""
        key = (scope.function, scope.file, scope.line)
        label = self.call_labels.get(key)
        if label is None:
            label = self.call_labels[key] = f"{scope.function}  {os.path.basename(scope.file)}:{scope.line}"
        return label

    def _place(self, element: tuple, gid: int, file: str | None, items: dict, scopes: list, queue: deque) -> None:
        kind = element[0]
        if kind == "n":
            self.group_of[element[1].id] = gid
            self.direct[gid] += 1
        elif kind == "s":
            scope = scopes[element[1]]
            call = self._group("call", self._call_label(scope), gid, site=self._def_site(scope))
            queue.append((items[scope.id], call, scope.file, True))
        else:  # a loop: ("l", (body, period, iterations), key, line, first line, last line)
            elements, period, count = element[1]
            where = os.path.basename(file) if file else "?"
            lines = f"{element[4]}" if element[4] == element[5] else f"{element[4]}-{element[5]}"
            loop = self._group("loop", f"loop  {where}:{lines}  x{count}", gid, count=count)
            self._iterations(loop, elements, period, 0, count, file, queue)

    def _iterations(self, loop: int, elements: list, period: int, first: int, count: int, file: str | None,
                    queue: deque) -> None:
        """Iterations ``first``..``first+count-1`` of a loop into group ``loop``, split in nested loop groups of at
        most FANOUT children; a one-item body is placed directly (no iteration group around a single item)."""
        if count > FANOUT:
            chunk = FANOUT
            while count > chunk * FANOUT:
                chunk *= FANOUT
            for start in range(first, first + count, chunk):
                n = min(chunk, first + count - start)
                sub = self._group("loop", f"iterations {start + 1}-{start + n}", loop, count=n)
                self._iterations(sub, elements, period, start, n, file, queue)
            return
        if period == 1:
            queue.append((elements[first:first + count], loop, file, False))
            return
        groups, children, direct = self.groups, self.children, self.direct
        own = children[loop]
        for k in range(first, first + count):  # self._group written out: a long loop has many iterations
            iteration = len(groups)
            groups.append({"id": iteration, "kind": "iteration", "label": k + 1, "parent": loop,  # "iteration k+1"
                           "size": 0, "collapsed": False})
            children.append([])
            direct.append(0)
            own.append(iteration)
            queue.append((elements[k * period:(k + 1) * period], iteration, file, False))

    def _collapse(self) -> None:
        groups, children, direct = self.groups, self.children, self.direct
        for group in groups[1:]:
            group["collapsed"] = True
        visible = direct[0] + len(children[0])
        queue = deque(children[0])
        budget = self.budget
        while queue:
            gid = queue.popleft()
            grow = direct[gid] + len(children[gid]) - 1
            if visible + grow <= budget:
                groups[gid]["collapsed"] = False
                visible += grow
                queue.extend(children[gid])

    # --- the wire form: columns; the summaries in one table (see docs/view-schema.md)
    def _wire_nodes(self, nodes: list) -> dict:
        """Node columns; node i's value goes to summaries[i]."""
        annotations = getattr(self.trace, "annotations", None) or {}
        values, types = self.values, self.types
        site_of_object: dict[int, int] = {}
        ids = list(map(_ID, nodes))
        group_col = list(map(self.group_of.__getitem__, ids))
        role_col = list(map(_ROLE_INDEX.__getitem__, map(_ROLE, nodes)))
        primitives = dict.fromkeys(map(_PRIMITIVE, nodes))  # in order of first use
        primitives.pop(None, None)
        prim_index = {primitive: index for index, primitive in enumerate(primitives)}
        prim_index[None] = -1
        prim_col = list(map(prim_index.__getitem__, map(_PRIMITIVE, nodes)))
        site_col, parent_col, counts = [], [], []
        args_extra, names, faded, levels, made_by, notes_extra = [], [], [], [], [], []
        used_on_path: set[int] = set()  # constants that feed a node on the path to the output
        faded_constants = []
        last_site = last_index = None
        for node in nodes:
            node_id = node.id
            summary = node.value
            values.append(_summary_wire(summary, types))
            args = node.args
            if len(args) == 1 and not node.kwargs and "node" in args[0]:  # the common case, written out
                parent_col += (0, args[0]["node"])
                counts.append(1)
            else:  # traced arguments and constants are both drawn as parents, in argument order
                text = []
                count = 0
                for argnum, arg in enumerate(args):
                    ref = arg.get("node")
                    if ref is None:
                        ref = arg.get("constant")
                        if ref is not None and node.on_path:
                            used_on_path.add(ref)
                    if ref is None:
                        text.append(str(arg.get("repr", "?")))
                    else:
                        count += 1
                        parent_col += (argnum, ref)
                        text.append(f"%{ref}")
                counts.append(count)
                if node.kwargs:
                    text += [f"{key}={value.get('repr', '?')}" for key, value in node.kwargs.items()]
                if count != len(text):  # otherwise the args are the parents' ids, derived when read
                    args_extra.append([node_id, text])
            site = node.site
            if site is None:
                site_col.append(-1)
            elif site is last_site:
                site_col.append(last_index)
            else:
                index = site_of_object.get(id(site))
                if index is None:
                    index = site_of_object[id(site)] = self._site(site.file, site.line, site.function, node.code)
                site_col.append(index)
                last_site, last_index = site, index
            if node.name is not None:
                names.append([node_id, node.name])
            if not node.on_path:
                if node.role == "constant":
                    faded_constants.append(node_id)  # faded unless a node on the path uses it (seen later)
                else:
                    faded.append(node_id)
            if node.level:
                levels.append([node_id, node.level])
            if node.made_by is not None:
                made_by.append([node_id, node.made_by])
            if annotations:
                found = annotations.get(node_id)
                if found:
                    notes_extra.append([node_id, [
                        {key: v if v is None or isinstance(v, (str, bool, int, dict)) else number_json(v)
                         for key, v in note.items()} for note in found]])
        if faded_constants:
            faded = sorted(faded + [i for i in faded_constants if i not in used_on_path])
        out = {"primitive": prim_col, "role": role_col, "group": group_col, "site": site_col,
               "parents_n": counts, "parents": parent_col}
        for key, extra in (("args", args_extra), ("name", names), ("faded", faded),
                           ("level", levels), ("made_by", made_by), ("annotations", notes_extra)):
            if extra:
                out[key] = extra
        if nodes and (ids[0] != 0 or ids[-1] != len(nodes) - 1):  # (ids are sorted and distinct)
            out["id"] = ids
        self.primitives = list(primitives)
        return out

    def _wire_steps(self, steps: list) -> dict:
        """Step columns. The j-th summary sent (in step order) is summaries[nodes + j]; an arrival refers to the
        summary table (what arrives was sent earlier: the same Summary, so the same entry); the outgrad is the
        only arrival's summary unless listed."""
        values, types = self.values, self.types
        arrived_n = list(map(len, map(_ARRIVED, steps)))
        sent_n = list(map(len, map(_SENT, steps)))
        first_sent = len(values)
        sent_values: list = []
        others: list = []  # seeds, sums of several arrivals: after the sent summaries
        first_other = first_sent + sum(sent_n)
        refs: dict[int, int] = {}
        known = refs.get
        arrived_col, sent_col, outgrads = [], [], []
        for k, step in enumerate(steps):
            arrived = step.arrived
            if len(arrived) == 1:  # the common case, written out
                a = arrived[0]
                summary = a.value
                ref = known(id(summary))
                if ref is None:
                    ref = refs[id(summary)] = first_other + len(others)
                    others.append(_summary_wire(summary, types))
                child = a.child
                arrived_col += (-1, -1, ref) if child is None else (child, a.argnum, ref)
                if step.outgrad is not summary:  # (refs are by object: the same object is the same entry)
                    outgrads += (k, self._other(step.outgrad, refs, others, first_other))
            else:
                for a in arrived:
                    child = a.child
                    ref = self._other(a.value, refs, others, first_other)
                    arrived_col += (-1, -1, ref) if child is None else (child, a.argnum, ref)
                outgrads += (k, self._other(step.outgrad, refs, others, first_other))
            for x in step.sent:
                summary = x.value
                refs[id(summary)] = first_sent + len(sent_values)
                sent_values.append(_summary_wire(summary, types))
                sent_col += (x.argnum, x.parent)
        values += sent_values
        values += others
        out = {"node": list(map(_NODE, steps)), "arrived_n": arrived_n, "arrived": arrived_col, "sent_n": sent_n,
               "sent": sent_col}
        if outgrads:
            out["outgrad"] = outgrads
        levels = list(map(_LEVEL, steps))
        if any(levels):
            out["level"] = levels
        return out

    def _other(self, summary: Summary, refs: dict, others: list, first_other: int) -> int:
        """The table index of ``summary``: a send's entry when it was sent, else a new entry among the others."""
        ref = refs.get(id(summary))
        if ref is None:
            ref = refs[id(summary)] = first_other + len(others)
            others.append(_summary_wire(summary, self.types))
        return ref


_ARRIVED, _SENT, _NODE, _LEVEL = (attrgetter(name) for name in ("arrived", "sent", "node", "level"))
_ID, _ROLE, _PRIMITIVE = (attrgetter(name) for name in ("id", "role", "primitive"))


ROLES = ("input", "operation", "output", "constant")
_ROLE_INDEX = {role: i for i, role in enumerate(ROLES)}
KINDS = ("root", "call", "loop", "iteration", "vjp")
_KIND_INDEX = {kind: i for i, kind in enumerate(KINDS)}


def _summary_wire(summary: Summary, types: dict) -> Any:
    """A summary in the wire form: a finite float64 scalar as the bare number, anything else as <summary>.

    Called once per node and per step: the scalar test is written out here rather than in a helper."""
    head = summary.head
    if len(head) == 1 and summary.kind == "array" and summary.dtype == "float64" and not summary.shape:
        x = head[0]
        if type(x) is float and x - x == 0 and summary.norm == abs(x) and not summary.nan and not summary.inf:
            low, high, mean = summary.min, summary.max, summary.mean
            if (low is x and high is x and mean is x) or (x != 0 and low == x and high == x and mean == x):
                return x  # (a zero only when it is one object: -0.0 == 0.0 but they print differently)
    return summary_json(summary, types)


def _call_element(scope: Any) -> tuple:
    line = scope.call_line if scope.call_line is not None else -1
    return ("s", scope.id, ("c", line, scope.call_offset, scope.function), line, line, line)  # f(f(x)) isn't a loop


def _fold(elements: list, unfolded: set) -> list:
    """``elements`` with repeated runs folded into loop elements, repeatedly (so loops nest).

    ``unfolded`` remembers short key sequences that hold no loop (a function called 25,000 times is checked once;
    the lines are part of the keys, so the same keys fold the same way)."""
    if len(elements) < 2:
        return elements
    signature = tuple([element[2] for element in elements]) if len(elements) <= 64 else None
    if signature is not None and signature in unfolded:
        return elements
    for _ in range(8):
        folded = _fold_once(elements)
        if len(folded) == len(elements):
            if signature is not None and folded is elements:
                unfolded.add(signature)
            return folded
        elements = folded
        signature = None
    return elements


def _fold_once(elements: list) -> list:
    """One pass of loop folding (rule in the module docstring). Elements are tuples
    (kind, payload, key, line, first line, last line)."""
    n = len(elements)
    if n < 2:
        return elements
    keys = [element[2] for element in elements]
    lines = [element[3] for element in elements]
    out: list = []
    start = 0  # elements before this are in ``out``
    i = 1
    while i < n:
        line = lines[i]
        if line > lines[i - 1]:
            i += 1
            continue
        key = keys[i]
        best = None  # (coverage, j, period, count)
        low = max(start, i - WINDOW)
        for j in range(i - 1, low - 1, -1):
            if lines[j] < line:
                break
            if keys[j] != key:
                continue
            period = i - j
            body = keys[j:i]
            count = 1
            at = i
            while at + period <= n and keys[at:at + period] == body:
                count += 1
                at += period
            need = 2 if _certainly_repeats(elements[j:i]) else 3
            if count >= need and (best is None or count * period > best[0]):
                best = (count * period, j, period, count)
        if best is None:
            i += 1
            continue
        coverage, j, period, count = best
        out.extend(elements[start:j])
        body = elements[j:j + coverage]
        first = min(element[4] for element in body[:period])
        last = max(element[5] for element in body[:period])
        out.append(("l", (body, period, count), ("l", period, count, tuple(keys[j:j + period])), lines[j],
                    first, last))
        start = j + coverage
        i = start + 1
    if start == 0:
        return elements  # nothing folded
    out.extend(elements[start:])
    return out


def _certainly_repeats(body: list) -> bool:
    """Whether two copies of ``body`` are surely a loop: it holds a call (whose key has the call's bytecode offset,
    which only a loop runs twice) or spans lines (so the line jumped back). Nodes on one line are not enough:
    ``x[1:] * x[:-1]`` makes two alike nodes on one line; three copies are asked of them."""
    return (any(element[0] == "s" for element in body)
            or min(element[4] for element in body) < max(element[5] for element in body))


def _wire_groups(groups: list[dict]) -> dict:
    """Groups as columns: kind by index into KINDS, -1 for an absent parent, site, count or made_by, and an
    iteration's label as its number."""
    kind_index = _KIND_INDEX
    out = {"kind": [kind_index[g["kind"]] for g in groups], "label": [g["label"] for g in groups],
           "parent": [-1 if g["parent"] is None else g["parent"] for g in groups],
           "size": [g["size"] for g in groups], "collapsed": [1 if g["collapsed"] else 0 for g in groups]}
    for key in ("site", "count", "made_by"):
        column = [g.get(key, -1) for g in groups]
        if any(v != -1 for v in column):
            out[key] = column
    return out


# --- the wire form expanded into the object form (js/src/decode.js does the same in the browser)

def expand(wire: dict) -> dict:
    """The object form of a view model in the wire form (version 2); an object-form model (version 1) as is."""
    if wire.get("version") == 1:
        return wire
    if wire.get("schema") != SCHEMA or wire.get("version") != VERSION:
        raise ValueError(f"not a gradviz view model this version reads: schema {wire.get('schema')!r}, "
                         f"version {wire.get('version')!r}")
    values = [_summary_object(v) for v in wire["summaries"]]
    groups = _expand_groups(wire["groups"])
    steps = _expand_steps(wire["steps"], values, len(wire["nodes"]["primitive"]))
    nodes = _expand_nodes(wire["nodes"], wire["primitives"], values, steps)
    return {
        "schema": SCHEMA, "version": 1, "function": wire["function"], "argnum": wire["argnum"],
        "value": wire["value"], "budget": wire["budget"],
        "sites": [{"file": f, "line": line, "function": fn, "code": code} for f, line, fn, code in wire["sites"]],
        "groups": groups, "nodes": nodes, "steps": steps, "levels": wire["levels"],
    }


def _summary_object(value: Any) -> dict:
    if type(value) is float or type(value) is int:
        x = float(value)
        return {"type": "f64[]", "min": x, "max": x, "mean": x, "norm": abs(x), "head": [x]}
    return value


def _expand_groups(wire: dict) -> list[dict]:
    kinds, labels, parents, sizes, collapsed = (wire["kind"], wire["label"], wire["parent"], wire["size"],
                                                wire["collapsed"])
    optional = [(key, wire[key]) for key in ("site", "count", "made_by") if key in wire]
    out = []
    for gid in range(len(kinds)):
        label = labels[gid]
        group = {"id": gid, "kind": KINDS[kinds[gid]],
                 "label": f"iteration {label}" if type(label) is int else label,
                 "parent": None if parents[gid] < 0 else parents[gid], "size": sizes[gid],
                 "collapsed": bool(collapsed[gid])}
        for key, column in optional:
            if column[gid] >= 0:
                group[key] = column[gid]
        out.append(group)
    return out


def _expand_steps(wire: dict, values: list, first_sent: int) -> list[dict]:
    nodes, arrived, sent = wire["node"], wire["arrived"], wire["sent"]
    arrived_n, sent_n = wire["arrived_n"], wire["sent_n"]
    flat = wire.get("outgrad", ())
    outgrads = dict(zip(flat[::2], flat[1::2]))
    levels = wire.get("level")
    out: list[dict] = []
    a = s = 0
    for k, node in enumerate(nodes):
        arrivals = []
        for _ in range(arrived_n[k]):
            child, argnum = arrived[a], arrived[a + 1]
            arrivals.append([None if child < 0 else child, None if argnum < 0 else argnum, values[arrived[a + 2]]])
            a += 3
        sends = []
        for _ in range(sent_n[k]):
            sends.append([sent[2 * s], sent[2 * s + 1], values[first_sent + s]])
            s += 1
        ref = outgrads.get(k)
        out.append({"node": node, "level": 0 if levels is None else levels[k], "arrived": arrivals,
                    "outgrad": arrivals[0][2] if ref is None else values[ref], "sent": sends})
    return out


def _expand_nodes(wire: dict, primitives: list, values: list, steps: list) -> list[dict]:
    first_step: dict[int, int] = {}
    for k in range(len(steps) - 1, -1, -1):
        first_step[steps[k]["node"]] = k
    extra: dict[str, dict] = {key: dict(wire.get(key, ())) for key in ("args", "name", "level", "made_by",
                                                                        "annotations")}
    faded = set(wire.get("faded", ()))
    counts = wire["parents_n"]
    prims, roles, groups, sites, parents = (wire["primitive"], wire["role"], wire["group"], wire["site"],
                                            wire["parents"])
    ids = wire.get("id")
    out = []
    p = 0
    for i in range(len(prims)):
        value = values[i]
        count = counts[i]
        pairs = [[parents[p + 2 * j], parents[p + 2 * j + 1]] for j in range(count)]
        p += 2 * count
        role = ROLES[roles[i]]
        primitive = None if prims[i] < 0 else primitives[prims[i]]
        node_id = i if ids is None else ids[i]
        node = {"id": node_id, "op": role if primitive is None else primitive.rsplit(".", 1)[-1], "role": role,
                "type": value["type"], "group": groups[i], "parents": pairs,
                "args": extra["args"].get(node_id) or [f"%{parent}" for _, parent in pairs], "value": value}
        if primitive is not None:
            node["primitive"] = primitive
        if sites[i] >= 0:
            node["site"] = sites[i]
        for key in ("name", "level", "made_by", "annotations"):
            found = extra[key].get(node_id)
            if found is not None:
                node[key] = found
        if node_id in faded:
            node["faded"] = True
        step = first_step.get(node_id)
        if step is not None:
            node["step"] = step
        out.append(node)
    return out


# --- what goes to the browser

COMPACT_FROM = 1000  # nodes from which the browser gets the wire form; smaller traces go in the object form


def browser_model(trace: Any, budget: int = 300) -> dict:
    """The model the widget sends and the HTML export embeds: the wire form from COMPACT_FROM nodes on, the
    object form (readable, and what view_model returns) below; the browser reads both (js/src/decode.js)."""
    wire = view_model_wire(trace, budget)
    return wire if model_counts(wire)[0] >= COMPACT_FROM else expand(wire)


def model_counts(model: dict) -> tuple[int, int]:
    """(nodes, steps) of a view model in either form."""
    nodes, steps = model.get("nodes", ()), model.get("steps", ())
    if model.get("version") == VERSION:
        return len(nodes["primitive"]), len(steps["node"])
    return len(nodes), len(steps)
