"""The command line: ``python -m gradviz demo``, ``--help``, and a clear exit status 2 for a bad command."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as onp
import pytest

import gradviz.numpy as np
from gradviz.__main__ import main, max_finite_difference_error


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "gradviz", *args], capture_output=True, text=True, timeout=120,
                          cwd=cwd)


def test_demo_prints_value_gradient_listing_and_a_passing_check(tmp_path):
    result = run("demo", cwd=tmp_path)
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


def test_main_is_the_console_script_entry_point(capsys, tmp_path):
    assert main(["demo", "--out", str(tmp_path / "report.html")]) == 0
    assert "finite-difference check" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_info:
        main(["nope"])
    assert exit_info.value.code == 2


def test_finite_difference_check_catches_a_wrong_gradient():
    def f(x):
        return np.sum(x ** 2)

    x = onp.array([1.0, -2.0])
    assert max_finite_difference_error(f, x, 2 * x) < 1e-8
    assert max_finite_difference_error(f, x, 2 * x + onp.array([0.0, 0.1])) > 0.09


def written_report(out):
    match = re.search(r"^interactive report: (.+)$", out, re.M)
    assert match, out
    return Path(match.group(1))


def test_demo_prints_the_record_and_writes_a_standalone_html_report_here(tmp_path):
    out = subprocess.run([sys.executable, "-m", "gradviz", "demo"], capture_output=True, text=True, check=True,
                         cwd=tmp_path).stdout
    # The record, forward then backward, is printed before the report is written.
    forward, backward = out.index("forward:"), out.index("backward:")
    assert forward < backward
    assert re.search(r"^  %\d+ = numpy\.tanh\(%\d+\)  f64\[4, 2\]  tiny_layer\.py:\d+ in layer$", out, re.M)
    assert re.search(r"^  step \d+: %\d+ numpy\.mean  outgrad f64\[\] 1 \(from seed\)", out, re.M)
    path = written_report(out)
    assert path == tmp_path / "gradviz-demo.html"
    html = path.read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html")
    # Self-contained: the trace is in the file (the model's primitives and its source file), nothing is fetched.
    for text in ("tanh", "tiny_layer.py"):
        assert text in html, text
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=[\"']https?:", html, re.I)


def test_demo_out_writes_the_report_where_asked(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "reports" / "mine.html"
    target.parent.mkdir()
    assert main(["demo", "--out", str(target)]) == 0
    assert written_report(capsys.readouterr().out) == target
    assert target.stat().st_size > 1000
    assert not (tmp_path / "gradviz-demo.html").exists()


def test_demo_help_mentions_the_report(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "--out PATH" in out and "HTML report" in out
