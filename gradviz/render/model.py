"""The view model: one JSON-ready dict per trace that the DOT builder, the widget and the HTML export all draw.

It is made from the Trace's public records only. Nodes are grouped by the user's function calls (one "call" group
per Scope, nested), repeated loop iterations are folded into "loop" groups, the nodes an inner backward pass made
(grad of grad) go into a "vjp" group under the node whose VJP made them, and a budget picks which groups start
collapsed so that the first view stays small. See /work/notes/render-spec.md for the contract.

Loop folding. In each group the items (its own nodes and its child calls, in the order they were made) have a
line (a node's line; a call's call line) and a key (line and primitive; call line and function). A loop is looked
for where the line does not advance (it jumps back, or stays on one line): the body is the stretch from an
earlier item with the same key (within the run of items whose lines are at least this one's), and the loop is as
many back-to-back copies of that body's keys as follow. The body giving the most coverage wins; a one-node body
needs three copies, any other two (so consecutive calls of one function from one line fold). Folding repeats on
the folded sequence, so loops nest. A loop with more than FANOUT iterations is split into nested "loop" groups of
at most FANOUT children each, so that expanding any group shows at most about FANOUT boxes.

Nodes. ``parents`` lists the constants a node was given as well as its traced arguments (in argument order), so
that constants are drawn connected; the steps send only to traced parents. Summaries leave out null values and
zero NaN/Inf counts, but keep numbers that are 0.0 (a min of 0 is information).

Budget. The root is expanded, every other group starts collapsed; groups are then expanded breadth-first (by
depth, in order) whenever the visible count (visible nodes + collapsed boxes) stays within the budget; a group
that does not fit stays collapsed and its subgroups are not tried.
"""

from __future__ import annotations

import linecache
import os
from collections import deque
from typing import Any

from ..core.gcpause import gc_paused
from ..record.summary import Summary, summarize

__all__ = ["view_model", "SCHEMA", "VERSION", "FANOUT", "summary_json", "number_json"]

SCHEMA = "gradviz.view"
VERSION = 1
FANOUT = 100  # most children a loop group gets (more iterations are split into nested loop groups)
WINDOW = 256  # longest loop body (in items) looked for
ROOT = -1  # the key of the root group's items (the traced function's scope, and nodes outside any scope)


def view_model(trace: Any, budget: int = 300) -> dict:
    """The view model of ``trace`` (see the module docstring and the render spec); strict-JSON ready."""
    with gc_paused():  # a few hundred thousand new dicts and lists, no cycles among them
        return _Builder(trace, budget).build()


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
    out: dict = {"type": kind}
    x = summary.min
    if x is not None:
        out["min"] = x if type(x) is float and x - x == 0 else number_json(x)
    x = summary.max
    if x is not None:
        out["max"] = x if type(x) is float and x - x == 0 else number_json(x)
    x = summary.mean
    if x is not None:
        out["mean"] = x if type(x) is float and x - x == 0 else number_json(x)
    x = summary.norm
    if x is not None:
        out["norm"] = x if type(x) is float and x - x == 0 else number_json(x)
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

        # 6. nodes and steps
        return {
            "schema": SCHEMA, "version": VERSION, "function": trace.function,
            "argnum": list(trace.argnum) if isinstance(trace.argnum, tuple) else trace.argnum,
            "value": summary_json(summarize(trace.value)), "budget": self.budget,
            "sites": self.sites, "groups": groups,
            "nodes": self._nodes(nodes, steps),
            "steps": self._steps(steps),
            "levels": 1 + max((node.level for node in nodes), default=0),
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
            groups.append({"id": iteration, "kind": "iteration", "label": f"iteration {k + 1}", "parent": loop,
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

    def _nodes(self, nodes: list, steps: list) -> list[dict]:
        annotations = getattr(self.trace, "annotations", None) or {}
        step_of = {steps[i].node: i for i in range(len(steps) - 1, -1, -1)}  # a node's first step
        used_on_path: set[int] = set()  # constants that feed a node on the path to the output
        constant_records = []
        summaries = self.summaries = {}  # id(Summary) -> its JSON (a value sent is the value that arrives)
        known = summaries.get
        types: dict = {}
        ops: dict = {}
        site_of_object: dict[int, int] = {}
        group_of = self.group_of
        out = []
        append = out.append
        for node in nodes:
            node_id = node.id
            summary = node.value
            value = known(id(summary))
            if value is None:
                norm = summary.norm
                if (not summary.shape and summary.items is None and not summary.nan and not summary.inf
                        and norm is not None and norm - norm == 0 and summary.dtype == "float64"):
                    value = {"type": "f64[]", "min": summary.min, "max": summary.max, "mean": summary.mean,
                             "norm": norm, "head": summary.head}  # summary_json of a float, written out
                else:
                    value = summary_json(summary, types)
                summaries[id(summary)] = value
            primitive = node.primitive
            op = ops.get(primitive) if primitive is not None else node.role
            if op is None:
                op = ops[primitive] = _short_op(node)
            args = node.args
            if len(args) == 1 and not node.kwargs and "node" in args[0]:  # the common case, written out
                parent = args[0]["node"]
                parents = [[0, parent]]
                arg_text = [f"%{parent}"]
            else:  # traced arguments and constants are both drawn as parents, in argument order
                parents = []
                arg_text = []
                for argnum, arg in enumerate(args):
                    ref = arg.get("node")
                    if ref is None:
                        ref = arg.get("constant")
                        if ref is not None and node.on_path:
                            used_on_path.add(ref)
                    if ref is None:
                        arg_text.append(str(arg.get("repr", "?")))
                    else:
                        parents.append([argnum, ref])
                        arg_text.append(f"%{ref}")
                if node.kwargs:
                    arg_text += [f"{key}={value.get('repr', '?')}" for key, value in node.kwargs.items()]
            site = node.site
            if site is not None:
                index = site_of_object.get(id(site))
                if index is None:
                    index = site_of_object[id(site)] = self._site(site.file, site.line, site.function, node.code)
            step = step_of.get(node_id)
            if primitive is not None and site is not None and step is not None:  # the common case: one literal
                record = {"id": node_id, "op": op, "role": node.role, "type": value["type"],
                          "group": group_of[node_id], "parents": parents, "args": arg_text, "value": value,
                          "primitive": primitive, "site": index, "step": step}
            else:
                record = {"id": node_id, "op": op, "role": node.role, "type": value["type"],
                          "group": group_of[node_id], "parents": parents, "args": arg_text, "value": value}
                if primitive is not None:
                    record["primitive"] = primitive
                if site is not None:
                    record["site"] = index
                if step is not None:
                    record["step"] = step
            if node.name is not None:
                record["name"] = node.name
            if not node.on_path:
                if node.role == "constant":
                    constant_records.append(record)  # faded unless a node on the path uses it (seen later)
                else:
                    record["faded"] = True
            if node.level:
                record["level"] = node.level
            if node.made_by is not None:
                record["made_by"] = node.made_by
            if annotations:
                notes = annotations.get(node_id)
                if notes:
                    record["annotations"] = [
                        {key: v if v is None or isinstance(v, (str, bool, int, dict)) else number_json(v)
                         for key, v in note.items()} for note in notes]
            append(record)
        for record in constant_records:
            if record["id"] not in used_on_path:
                record["faded"] = True
        return out

    def _steps(self, steps: list) -> list[dict]:
        summaries = self.summaries
        known = summaries.get
        types: dict = {}

        def as_json(summary: Summary) -> dict:
            norm = summary.norm
            if (not summary.shape and summary.items is None and not summary.nan and not summary.inf
                    and norm is not None and norm - norm == 0 and summary.dtype == "float64"):
                value = {"type": "f64[]", "min": summary.min, "max": summary.max, "mean": summary.mean,
                         "norm": norm, "head": summary.head}  # summary_json of a float, written out
            else:
                value = summary_json(summary, types)
            summaries[id(summary)] = value
            return value

        out = []
        append = out.append
        for step in steps:
            arrived, sent = step.arrived, step.sent
            if len(arrived) == 1:
                a = arrived[0]
                arrivals = [[a.child, a.argnum, known(id(a.value)) or as_json(a.value)]]
            else:
                arrivals = [[a.child, a.argnum, known(id(a.value)) or as_json(a.value)] for a in arrived]
            if len(sent) == 1:
                x = sent[0]
                sends = [[x.argnum, x.parent, known(id(x.value)) or as_json(x.value)]]
            else:
                sends = [[x.argnum, x.parent, known(id(x.value)) or as_json(x.value)] for x in sent]
            append({"node": step.node, "level": step.level, "arrived": arrivals,
                    "outgrad": known(id(step.outgrad)) or as_json(step.outgrad), "sent": sends})
        return out


def _call_element(scope: Any) -> tuple:
    line = scope.call_line if scope.call_line is not None else -1
    return ("s", scope.id, ("c", line, scope.function), line, line, line)


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
            need = 3 if period == 1 and elements[j][0] == "n" else 2
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
