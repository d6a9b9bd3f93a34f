"""The command line: ``python -m gradviz demo``, ``--help``, and a clear exit status 2 for a bad command."""

import re
import subprocess
import sys

import numpy as onp
import pytest

import gradviz.numpy as np
from gradviz.__main__ import main, max_finite_difference_error


def run(*args):
    return subprocess.run([sys.executable, "-m", "gradviz", *args], capture_output=True, text=True, timeout=120)


def test_demo_prints_value_gradient_listing_and_a_passing_check():
    result = run("demo")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert re.search(r"^loss = \d+\.\d+$", out, re.M)
    assert "d loss / d W" in out and "d loss / d b" in out
    for primitive in ("numpy.dot", "numpy.tanh", "numpy.mean"):
        assert re.search(rf"^  %\d+ = {re.escape(primitive)}\(", out, re.M), primitive
    error = float(re.search(r"max \|error\| = (\S+) \(ok\)", out).group(1))
    assert error < 1e-6


def test_help_lists_the_demo_command():
    result = run("--help")
    assert result.returncode == 0
    assert "demo" in result.stdout and "usage: gradviz" in result.stdout


@pytest.mark.parametrize("args, hint", [(("frobnicate",), "invalid choice: 'frobnicate'"),
                                        ((), "required: command")])
def test_an_unknown_or_missing_command_exits_2_with_a_hint(args, hint):
    result = run(*args)
    assert result.returncode == 2
    assert "usage: gradviz" in result.stderr and hint in result.stderr


def test_main_is_the_console_script_entry_point(capsys):
    assert main(["demo"]) == 0
    assert "finite-difference check" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_info:
        main(["nope"])
    assert exit_info.value.code == 2


def test_demo_prints_the_record_forward_then_backward():
    out = subprocess.run([sys.executable, "-m", "gradviz", "demo"], capture_output=True, text=True, check=True).stdout
    forward, backward = out.index("forward:"), out.index("backward:")
    assert forward < backward
    assert re.search(r"^  %\d+ = numpy\.tanh\(%\d+\)  f64\[4, 2\]  tiny_layer\.py:\d+ in layer$", out, re.M)
    assert re.search(r"^  step \d+: %\d+ numpy\.mean  outgrad f64\[\] 1 \(from seed\)", out, re.M)


def test_finite_difference_check_catches_a_wrong_gradient():
    def f(x):
        return np.sum(x ** 2)

    x = onp.array([1.0, -2.0])
    assert max_finite_difference_error(f, x, 2 * x) < 1e-8
    assert max_finite_difference_error(f, x, 2 * x + onp.array([0.0, 0.1])) > 0.09
