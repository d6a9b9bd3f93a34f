"""A small hand-made view model (the render spec's shape) with hostile user text, shared by the render tests."""

from __future__ import annotations

HOSTILE = 'a<b>&amp; </script><!-- "q" \\back {brace}\nnew'


def summary(norm, type_="f64[3]"):
    return {"type": type_, "norm": norm, "min": -1.0, "max": 1.0, "mean": 0.1, "head": [1.0, 2.0]}


def hostile_model() -> dict:
    """Six nodes: an input with a hostile tap name, a collapsed call group (with a nested group), a constant off
    the path, an output with a failing check; five backward steps."""
    s = summary
    return {
        "schema": "gradviz.view", "version": 1, "function": "loss</script>", "argnum": 0, "value": s(2.0, "f64[]"),
        "budget": 300, "levels": 1,
        "sites": [{"file": "/home/u/model.py", "line": 12, "function": "layer", "code": "h = np.tanh(x) # </script>"}],
        "groups": [
            {"id": 0, "kind": "root", "label": "loss", "parent": None, "size": 6, "collapsed": False},
            {"id": 1, "kind": "call", "label": HOSTILE, "parent": 0, "size": 2, "collapsed": True, "site": 0},
            {"id": 2, "kind": "call", "label": "inner", "parent": 1, "size": 1, "collapsed": False},
        ],
        "nodes": [
            {"id": 0, "op": "input", "role": "input", "type": "f64[3]", "group": 0, "parents": [], "args": [],
             "value": s(1.0), "name": HOSTILE},
            {"id": 1, "op": "tanh", "role": "operation", "type": "f64[3]", "group": 1, "parents": [[0, 0]],
             "args": ["%0"], "value": s(0.5), "site": 0, "primitive": "numpy.tanh"},
            {"id": 2, "op": "multiply", "role": "operation", "type": "f64[3]", "group": 2,
             "parents": [[0, 1], [1, 0]], "args": ["%1", "%0"], "value": s(0.4), "site": 0},
            {"id": 3, "op": "multiply", "role": "operation", "type": "f64[3]", "group": 0,
             "parents": [[0, 2], [1, 2]], "args": ["%2", "%2"], "value": s(0.3)},
            {"id": 4, "op": "constant", "role": "constant", "type": "f64[3]", "group": 0, "parents": [], "args": [],
             "value": s(3.0), "faded": True},
            {"id": 5, "op": "sum", "role": "output", "type": "f64[]", "group": 0, "parents": [[0, 3]],
             "args": ["%3"], "value": s(2.0, "f64[]"),
             "annotations": [{"kind": "vjp-check", "status": "fail", "message": "bad </script> vjp", "error": 0.5}]},
        ],
        "steps": [
            {"node": 5, "level": 0, "arrived": [[None, None, s(1.0, "f64[]")]], "outgrad": s(1.0, "f64[]"),
             "sent": [[0, 3, s(1.7)]]},
            {"node": 3, "level": 0, "arrived": [[5, 0, s(1.7)]], "outgrad": s(1.7),
             "sent": [[0, 2, s(0.01)], [1, 2, s(0.02)]]},
            {"node": 2, "level": 0, "arrived": [[3, 0, s(0.01)], [3, 1, s(0.02)]], "outgrad": s(0.03),
             "sent": [[0, 1, s(100.0)], [1, 0, s(0.001)]]},
            {"node": 1, "level": 0, "arrived": [[2, 0, s(100.0)]], "outgrad": s(100.0), "sent": [[0, 0, s("nan")]]},
            {"node": 0, "level": 0, "arrived": [[1, 0, s("nan")], [2, 1, s(0.001)]], "outgrad": s("nan"),
             "sent": []},
        ],
    }
