"""A trace as JSON and back: the schema ``gradviz.trace``, version 1, described in docs/trace-schema.md.

The JSON is strict (no NaN or Infinity literals, which browsers' JSON.parse rejects): non-finite numbers are the
strings "nan", "inf" and "-inf". Arrays are ``{"dtype", "shape", "data"}`` with the data flattened in C order and
complex numbers as [re, im] pairs.
"""

from __future__ import annotations

import json
import math
from dataclasses import fields
from typing import TYPE_CHECKING, Any

import numpy as np

from .recorder import Scope, Site
from .summary import Summary

if TYPE_CHECKING:
    from .trace import Trace

__all__ = ["SCHEMA", "VERSION", "to_json", "from_json", "to_dict", "from_dict"]

SCHEMA = "gradviz.trace"
VERSION = 1


def to_json(trace: Trace, **dump_kwargs: Any) -> str:
    return json.dumps(to_dict(trace), allow_nan=False, **dump_kwargs)


def from_json(text: str) -> Trace:
    return from_dict(json.loads(text))


def to_dict(trace: Trace) -> dict:
    return {
        "schema": SCHEMA,
        "version": VERSION,
        "function": trace.function,
        "argnum": list(trace.argnum) if isinstance(trace.argnum, tuple) else trace.argnum,
        "keep_values": trace.keep_values,
        "value": encode_value(trace.value),
        "grad": encode_value(trace.grad),
        "scopes": [{f.name: getattr(scope, f.name) for f in fields(Scope)} for scope in trace.scopes],
        "nodes": [_node(node) for node in trace.nodes],
        "steps": [
            {"index": step.index, "node": step.node, "level": step.level,
             "arrived": [{"child": a.child, "argnum": a.argnum, "value": encode_summary(a.value)}
                         for a in step.arrived],
             "outgrad": encode_summary(step.outgrad),
             "sent": [{"argnum": s.argnum, "parent": s.parent, "value": encode_summary(s.value)} for s in step.sent]}
            for step in trace.steps
        ],
        "annotations": [
            [node_id, [{"kind": a["kind"], "status": a["status"], "message": a["message"],
                        "error": encode_number(a.get("error"))} for a in entries]]
            for node_id, entries in sorted(trace.annotations.items()) if entries
        ],
    }


def _node(node: Any) -> dict:
    site = node.site
    return {
        "id": node.id, "primitive": node.primitive, "role": node.role,
        "parents": [list(parent) for parent in node.parents], "args": node.args, "kwargs": node.kwargs,
        "value": encode_summary(node.value),
        "site": None if site is None else {"file": site.file, "line": site.line, "function": site.function},
        "code": node.code, "scope": node.scope, "on_path": node.on_path, "level": node.level,
        "made_by": node.made_by, "name": node.name,
    }


def from_dict(data: dict) -> Trace:
    from .trace import Arrival, NodeRecord, Sent, StepRecord, Trace

    if data.get("schema") != SCHEMA:
        raise ValueError(f"not a gradviz trace: its schema is {data.get('schema')!r}, not {SCHEMA!r}")
    if data.get("version") != VERSION:
        raise ValueError(f"gradviz trace schema version {data.get('version')!r} is not supported (this gradviz "
                         f"reads version {VERSION}); upgrade gradviz to read it.")
    sites: dict[tuple, Site] = {}

    def site(data: dict | None) -> Site | None:
        if data is None:
            return None
        key = (data["file"], data["line"], data["function"])
        return sites.get(key) or sites.setdefault(key, Site(*key))

    nodes = [
        NodeRecord(n["id"], n["primitive"], n["role"], [tuple(p) for p in n["parents"]], n["args"], n["kwargs"],
                   decode_summary(n["value"]), site(n["site"]), n["code"], n["scope"], n["on_path"], n["level"],
                   n["made_by"], n["name"])
        for n in data["nodes"]
    ]
    steps = [
        StepRecord(s["index"], s["node"], s["level"],
                   [Arrival(a["child"], a["argnum"], decode_summary(a["value"])) for a in s["arrived"]],
                   decode_summary(s["outgrad"]),
                   [Sent(x["argnum"], x["parent"], decode_summary(x["value"])) for x in s["sent"]])
        for s in data["steps"]
    ]
    argnum = data["argnum"]
    trace = Trace(data["function"], tuple(argnum) if isinstance(argnum, list) else argnum,
                  decode_value(data["value"]), decode_value(data["grad"]), nodes, steps,
                  [Scope(**scope) for scope in data["scopes"]], data["keep_values"])
    for node_id, entries in data.get("annotations", []):  # absent in files written before annotations existed
        trace.annotations[node_id] = [{**entry, "error": decode_number(entry["error"])} for entry in entries]
    return trace


# --- numbers, arrays and values

def encode_number(x: Any) -> Any:
    if x is None or isinstance(x, (bool, int, str)):
        return x
    if isinstance(x, list):  # a complex number kept as [re, im]
        return [encode_number(part) for part in x]
    if isinstance(x, complex):
        return [encode_number(x.real), encode_number(x.imag)]
    x = float(x)
    if math.isfinite(x):
        return x
    return "nan" if x != x else ("inf" if x > 0 else "-inf")


def decode_number(x: Any) -> Any:
    if isinstance(x, str):
        return float(x)
    if isinstance(x, list):
        return complex(decode_number(x[0]), decode_number(x[1]))
    return x


def encode_value(value: Any) -> Any:
    """Any value a trace holds (arrays, scalars, containers, None) as strict JSON."""
    if value is None:
        return None
    if isinstance(value, tuple):
        return {"tuple": [encode_value(item) for item in value]}
    if isinstance(value, list):
        return {"list": [encode_value(item) for item in value]}
    if isinstance(value, dict):
        return {"dict": [[_key(key), encode_value(item)] for key, item in value.items()]}
    if isinstance(value, (np.ndarray, np.generic, float, int, complex, bool)):
        array = np.asarray(value)
        return {"dtype": array.dtype.name, "shape": list(array.shape),
                "data": [encode_number(x) for x in array.ravel().tolist()],
                "scalar": not isinstance(value, np.ndarray)}
    return {"repr": repr(value)}


def decode_value(data: Any) -> Any:
    if data is None:
        return None
    if "tuple" in data:
        return tuple(decode_value(item) for item in data["tuple"])
    if "list" in data:
        return [decode_value(item) for item in data["list"]]
    if "dict" in data:
        return {key: decode_value(item) for key, item in data["dict"]}
    if "repr" in data:
        return data["repr"]
    array = np.array([decode_number(x) for x in data["data"]], dtype=data["dtype"]).reshape(data["shape"])
    return array[()] if data.get("scalar") else array


def _key(key: Any) -> Any:
    return key if isinstance(key, (str, int, float, bool)) or key is None else repr(key)


def encode_summary(summary: Summary) -> dict:
    if summary.kind == "array" and summary.shape == () and summary.value is None and summary.dtype.startswith(
            "float") and len(summary.head) == 1:  # a real scalar: the number says it all
        return {"kind": "scalar", "dtype": summary.dtype, "x": encode_number(summary.head[0])}
    return {
        "kind": summary.kind, "shape": list(summary.shape), "dtype": summary.dtype,
        "min": encode_number(summary.min), "max": encode_number(summary.max), "mean": encode_number(summary.mean),
        "norm": encode_number(summary.norm), "nan": summary.nan, "inf": summary.inf,
        "head": [encode_number(x) for x in summary.head],
        "items": None if summary.items is None else [[_key(k), encode_summary(v)] for k, v in summary.items.items()],
        "value": None if summary.value is None else encode_value(summary.value),
    }


def decode_summary(data: dict) -> Summary:
    if data["kind"] == "scalar":
        x = float(decode_number(data["x"]))
        return Summary("array", (), data["dtype"], x, x, x, abs(x), int(x != x), int(x - x != 0 and x == x), [x])
    return Summary(
        data["kind"], tuple(data["shape"]), data["dtype"], decode_number(data["min"]), decode_number(data["max"]),
        decode_number(data["mean"]), decode_number(data["norm"]), data["nan"], data["inf"],
        [decode_number(x) for x in data["head"]],
        None if data["items"] is None else {key: decode_summary(item) for key, item in data["items"]},
        None if data["value"] is None else decode_value(data["value"]),
    )
