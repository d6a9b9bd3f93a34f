"""Pausing Python's cyclic garbage collector while a graph is built and walked.

A trace allocates many long-lived objects (nodes, boxes, argument tuples) that hold no reference cycles. Each
allocation burst makes the collector rescan the whole growing graph, which turns a linear pass into a quadratic
one (autograd slows from about 14 to 35 us per primitive at 100,000 nodes for this reason). The collector is
paused while any trace runs, in any thread, and resumed (if it was on) when the last one ends.
"""

from __future__ import annotations

import gc
import threading
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def gc_paused():
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
