"""Finding the test's own lines, so that tests can check the line a record or a report names."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path


def code_lines(path: str) -> Callable[[str], int]:
    """``line_of(code)``: the (1-based) line of ``path`` whose text, stripped, is ``code``; there must be one."""
    source = Path(path).read_text().splitlines()

    def line_of(code: str) -> int:
        lines = [i + 1 for i, text in enumerate(source) if text.strip() == code]
        assert len(lines) == 1, code
        return lines[0]

    return line_of


def marker_lines(path: str) -> Callable[[str], int]:
    """``line_of(marker)``: the (1-based) line of ``path`` ending with the comment ``# marker``; there must be one."""
    source = Path(path).read_text().splitlines()

    def line_of(marker: str) -> int:
        hits = [i + 1 for i, text in enumerate(source) if text.rstrip().endswith(f"# {marker}")]
        assert len(hits) == 1, f"marker {marker!r} found on lines {hits}"
        return hits[0]

    return line_of


def nodes_of(trace, name: str) -> set[int]:
    """The ids of the nodes of primitive ``name`` (its short name: "tanh" for numpy.tanh)."""
    return {node.id for node in trace.nodes if node.primitive and node.primitive.rsplit(".", 1)[-1] == name}
