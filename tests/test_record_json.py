"""Output forms: the text listing of print(trace), and Trace.to_json / Trace.from_json in the schema that
docs/trace-schema.md documents (the field names are read from the document's tables, so the two can't drift)."""

import dataclasses
import json
import re
from pathlib import Path

import numpy as onp
import pytest
from source_lines import marker_lines

import gradviz
import gradviz.numpy as np
from gradviz import Trace, grad

HERE = Path(__file__).resolve()
line_of = marker_lines(HERE)
SCHEMA_DOC = HERE.parent.parent / "docs" / "trace-schema.md"


# --- the programs

WEIGHTS = onp.array([[0.2, -0.1], [0.4, 0.3], [-0.5, 0.6]])


def layer(W, h):
    return np.tanh(np.dot(W, h))  # <layer>


def network(x):
    h = layer(WEIGHTS, x)
    h = gradviz.tap(h * 2.0, "doubled")
    return np.sum(h ** 2)  # <network-out>


def with_nans(x):
    return np.sum(np.sqrt(x) * 1.0)


def sin_times(y):
    return np.sin(y) * y


def curvature(x):
    return grad(sin_times)(x)


def params_loss(p):
    return np.sum(p["w"] * p["b"]) + p["c"] ** 2


def traces():
    """Traces of different kinds, for the round-trip and schema checks."""
    x = onp.array([[0.1, -0.4], [0.7, 0.2]])
    with onp.errstate(all="ignore"):
        nan_trace = gradviz.trace(with_nans, onp.array([-1.0, 0.0, 4.0]), keep_values=True)
    return {
        "network": gradviz.trace(network, x),
        "network-kept": gradviz.trace(network, x, keep_values=True),
        "nans": nan_trace,
        "grad-of-grad": gradviz.trace(curvature, 0.8),
        "dict": gradviz.trace(params_loss, {"w": onp.ones(2), "b": onp.array([0.5, 1.5]), "c": 2.0}),
        "argnums": gradviz.trace(lambda a, b: np.sum(a * b), onp.ones(2), onp.arange(2.0), argnum=(0, 1)),
        "forward-only": gradviz.trace(lambda x: x * 3.0, onp.ones(3), backward=False),
        "float32": gradviz.trace(lambda x: np.sum(np.exp(x)), onp.ones(2, dtype=onp.float32), keep_values=True),
    }


@pytest.fixture(scope="module")
def all_traces():
    return traces()


def no_constants(name):
    raise ValueError(f"non-strict JSON constant {name}")


# --- JSON

@pytest.mark.parametrize("kind", list(traces()))
def test_json_is_strict_and_round_trips(all_traces, kind):
    trace = all_traces[kind]
    text = trace.to_json()
    data = json.loads(text, parse_constant=no_constants)
    assert data["schema"] == "gradviz.trace" and data["version"] == 1
    again = gradviz.Trace.from_json(text)
    assert isinstance(again, gradviz.Trace)
    assert again.to_json() == text
    assert len(again.nodes) == len(trace.nodes) and len(again.steps) == len(trace.steps)


def test_complex_trace_round_trips():
    def f(z):
        return np.real(np.sum(z * np.conj(z)))

    z = onp.array([1 + 2j, 3 - 1j])
    trace = gradviz.trace(f, z)
    assert onp.allclose(trace.grad, 2 * onp.conj(z))
    try:
        text = trace.to_json()
    except TypeError as error:
        pytest.fail(f"to_json fails on a trace of complex values: {error!r}")
    json.loads(text, parse_constant=no_constants)
    again = gradviz.Trace.from_json(text)
    assert again.to_json() == text
    assert again.nodes[0].value.dtype == "complex128" and again.nodes[0].value.max == pytest.approx(onp.sqrt(10))


def without_values(step):
    """A step with its summaries' kept values dropped (arrays don't compare with ==)."""
    def strip(summary):
        return dataclasses.replace(summary, value=None)

    return dataclasses.replace(
        step, outgrad=strip(step.outgrad),
        arrived=[dataclasses.replace(a, value=strip(a.value)) for a in step.arrived],
        sent=[dataclasses.replace(s, value=strip(s.value)) for s in step.sent])


def test_from_json_restores_the_records(all_traces):
    trace = all_traces["network"]
    again = gradviz.Trace.from_json(trace.to_json())
    assert again.nodes == trace.nodes
    assert [without_values(step) for step in again.steps] == [without_values(step) for step in trace.steps]
    assert again.scopes == trace.scopes
    assert again.value == trace.value and onp.array_equal(again.grad, trace.grad)
    assert again.function == "network" and again.argnum == 0
    assert again.find("doubled").id == trace.find("doubled").id
    assert onp.allclose(again.grad_of("doubled"), trace.grad_of("doubled"))
    assert str(again) == str(trace)


def test_kept_values_survive_the_round_trip(all_traces):
    trace = all_traces["nans"]
    again = gradviz.Trace.from_json(trace.to_json())
    for old, new in zip(trace.steps, again.steps, strict=True):
        onp.testing.assert_array_equal(new.outgrad.value, old.outgrad.value)  # NaN and Inf included
    sqrt = [n for n in again.nodes if n.primitive == "numpy.sqrt"][0]
    assert (sqrt.value.nan, sqrt.value.inf) == (1, 0)
    data = json.loads(trace.to_json())
    step = [s for s in data["steps"] if s["node"] == sqrt.id][0]
    assert step["sent"][0]["value"]["nan"] == 1 and step["sent"][0]["value"]["inf"] == 1
    assert step["sent"][0]["value"]["max"] == "inf"


def test_float32_is_kept(all_traces):
    again = gradviz.Trace.from_json(all_traces["float32"].to_json())
    assert again.grad.dtype == onp.float32
    assert again.nodes[0].value.dtype == "float32"


def test_refuses_other_schemas_and_versions(all_traces):
    data = json.loads(all_traces["network"].to_json())
    with pytest.raises(ValueError, match="version"):
        gradviz.Trace.from_json(json.dumps({**data, "version": 2}))
    with pytest.raises(ValueError, match="schema"):
        gradviz.Trace.from_json(json.dumps({**data, "schema": "something.else"}))


# --- the schema document

def documented_fields() -> dict[str, list[str]]:
    """Section title -> the field names in the first column of its table (`a`, `b` rows give both)."""
    sections: dict[str, list[str]] = {}
    title = None
    for text in SCHEMA_DOC.read_text().splitlines():
        if text.startswith("## "):
            title = text[3:].strip()
            sections[title] = []
        elif title and text.startswith("|") and not text.startswith("|---"):
            first = text.split("|")[1]
            names = re.findall(r"`([^`]+)`", first)
            if names:
                sections[title] += names
    return sections


def documented_subfields(section: str, field: str) -> set[str]:
    """The quoted key names in the type column of ``field``'s row: `{"file", "line", "function"}`."""
    for text in SCHEMA_DOC.read_text().split(f"## {section}")[1].splitlines():
        cells = text.split("|")
        if len(cells) > 2 and f"`{field}`" in cells[1]:
            return set(re.findall(r'"(\w+)"', cells[2]))
    raise AssertionError(f"no row for {field} in {section}")


def summaries_in(data: dict):
    for node in data["nodes"]:
        yield node["value"]
    for step in data["steps"]:
        yield step["outgrad"]
        for part in step["arrived"] + step["sent"]:
            yield part["value"]


def nested(summary: dict):
    yield summary
    for _, item in summary.get("items") or []:
        yield from nested(item)


def test_the_documented_tables_are_parsed():
    fields = documented_fields()
    assert {"Top level", "Scope", "Node", "Step", "Summary"} <= set(fields)
    assert "made_by" in fields["Node"] and "norm" in fields["Summary"] and "call_line" in fields["Scope"]
    assert documented_subfields("Node", "site") == {"file", "line", "function"}


@pytest.mark.parametrize("kind", list(traces()))
def test_every_record_has_exactly_the_documented_fields(all_traces, kind):
    fields = {title: set(names) for title, names in documented_fields().items()}
    data = json.loads(all_traces[kind].to_json())
    assert set(data) == fields["Top level"]
    assert data["scopes"] or kind == "argnums"
    for scope in data["scopes"]:
        assert set(scope) == fields["Scope"]
    site_fields = documented_subfields("Node", "site")
    for node in data["nodes"]:
        assert set(node) == fields["Node"]
        assert node["site"] is None or set(node["site"]) == site_fields
    arrived_fields = documented_subfields("Step", "arrived")
    sent_fields = documented_subfields("Step", "sent")
    for step in data["steps"]:
        assert set(step) == fields["Step"]
        assert all(set(a) == arrived_fields for a in step["arrived"])
        assert all(set(s) == sent_fields for s in step["sent"])
    for summary in summaries_in(data):
        for part in nested(summary):
            if part["kind"] == "scalar":  # the short form of a real scalar's summary
                assert set(part) == fields["Scalar summary"]
            else:
                assert set(part) == fields["Summary"]
                assert part["kind"] in {"array", "tuple", "list", "dict", "none", "other"}


@pytest.mark.filterwarnings("ignore:invalid value encountered in log:RuntimeWarning")  # log(-1), on purpose
def test_annotations_round_trip_with_the_documented_fields():
    def f(x):
        return np.sum(np.log(x))

    recorded = gradviz.trace(f, onp.array([1.0, -1.0]))
    recorded.annotations[1] = [{"kind": "nonfinite-forward", "status": "fail", "message": "log <of> -1 & \"x\"",
                                "error": float("nan")}]
    data = json.loads(recorded.to_json())
    fields = documented_fields()
    assert [entry[0] for entry in data["annotations"]] == [1]
    assert all(set(a) == set(fields["Annotation"]) for a in data["annotations"][0][1])
    back = Trace.from_json(recorded.to_json()).annotations[1][0]
    assert back["message"] == recorded.annotations[1][0]["message"] and back["kind"] == "nonfinite-forward"
    assert back["error"] != back["error"]  # NaN survives as the string "nan"
    del data["annotations"]  # a file written before annotations existed still reads
    assert Trace.from_json(json.dumps(data)).annotations == {}


def test_documented_meanings_hold(all_traces):
    data = json.loads(all_traces["grad-of-grad"].to_json())
    ids = [node["id"] for node in data["nodes"]]
    assert ids == sorted(ids)  # "in forward order (by id)"
    assert [step["index"] for step in data["steps"]] == list(range(len(data["steps"])))
    roles = {node["role"] for node in data["nodes"]}
    assert roles <= {"input", "operation", "output", "constant"} and {"input", "output"} <= roles
    assert all(node["primitive"] is None for node in data["nodes"] if node["role"] in ("input", "constant"))
    assert [s["parent"] for s in data["scopes"]][0] is None
    assert all(s["id"] == i for i, s in enumerate(data["scopes"]))
    by_id = {node["id"]: node for node in data["nodes"]}
    assert any(node["made_by"] is not None for node in data["nodes"])
    for node in data["nodes"]:
        if node["made_by"] is not None:
            assert by_id[node["made_by"]]["level"] == node["level"] + 1


# --- the text listing

def test_print_gives_one_line_per_node_then_the_steps(capsys):
    x = onp.array([[0.1, -0.4], [0.7, 0.2]])
    trace = gradviz.trace(network, x)
    print(trace)
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert "network" in lines[0]
    forward = lines.index("forward:")
    backward = lines.index("backward:")
    node_lines = lines[forward + 1:backward]
    step_lines = lines[backward + 1:]
    assert len(node_lines) == len(trace.nodes) and len(step_lines) == len(trace.steps)
    for node, line in zip(trace.nodes, node_lines):
        assert line.strip().startswith(f"%{node.id} = ")
    for step, line in zip(trace.steps, step_lines):
        assert line.strip().startswith(f"step {step.index}: %{step.node} ")
    tanh = [n for n in trace.nodes if n.primitive == "numpy.tanh"][0]
    dot = [n for n in trace.nodes if n.primitive == "numpy.dot"][0]
    tanh_line = node_lines[trace.nodes.index(tanh)]
    pattern = (rf"^\s*%{tanh.id} = numpy\.tanh\(%{dot.id}\)\s+f64\[3, 2\]\s+"
               rf"{re.escape(HERE.name)}:{line_of('<layer>')} in layer$")
    assert re.match(pattern, tanh_line), tanh_line
    out_line = node_lines[-1]
    assert "numpy.sum" in out_line and "(output)" in out_line and f":{line_of('<network-out>')} in network" in out_line
    assert "'doubled'" in node_lines[trace.nodes.index(trace.find("doubled"))]


def test_listing_marks_made_by_and_non_finite_values():
    text = str(gradviz.trace(curvature, 0.8))
    assert "made by the VJP of %" in text
    with onp.errstate(all="ignore"):
        text = str(gradviz.trace(with_nans, onp.array([-1.0, 0.0, 4.0])))
    sqrt_line = [line for line in text.splitlines() if "= numpy.sqrt(" in line][0]
    assert sqrt_line.endswith("!! 1 NaN, 0 Inf")
    input_step = [line for line in text.splitlines() if line.strip().startswith("step 3: %0 input")][0]
    assert "nan" in input_step


def test_the_listing_keeps_one_line_per_record_whatever_the_user_names_hold():
    def f(x):
        return np.sum(gradviz.tap(np.sin(x), "two\nlines\tand\x01 a bell"))

    recorded = gradviz.trace(f, onp.ones(2))
    lines = str(recorded).splitlines()
    assert len(lines) == 4 + len(recorded.nodes) + len(recorded.steps)
    assert any("two\\nlines\\tand\\x01 a bell" in line for line in lines)
