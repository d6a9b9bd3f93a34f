"""The record: ``gradviz.trace`` keeps the forward graph, the user's code and every backward step as plain data.

The renderer and the debugger read only this record (``Trace`` and its node and step records), never the tracer.
"""

from .recorder import Scope, Site
from .summary import Summary, summarize
from .trace import Arrival, NodeRecord, Sent, StepRecord, Trace, tap, trace

__all__ = ["trace", "tap", "Trace", "NodeRecord", "StepRecord", "Arrival", "Sent", "Scope", "Site", "Summary",
           "summarize"]
