"""The debugger: which VJP is wrong (check), where a NaN was born (nonfinite), where gradients die (flow).

Each reads a ``gradviz.trace`` record and writes its findings into ``trace.annotations`` for the renderer::

    report = gradviz.check_vjps(loss, params, x)      # or gradviz.trace(loss, params, x).check()
    report.first                                       # the first broken VJP: primitive, argnum, shapes, line
    gradviz.debug.check_grads(loss, params, x)         # whole gradient vs finite differences, with the blame
    trace.nonfinite()                                  # where the first NaN / Inf was born, forward and backward
    with gradviz.detect_anomaly(): grad(loss)(params)  # ... or raise FloatingPointError right there
    trace.flow(vanish=1e-6, explode=1e6)               # outgrad norms per node and per function of your code
"""

from .check import NodeCheck, VJPCheckReport, check_trace, check_vjps
from .flow import FlowReport, gradient_flow
from .grads import GradCheckResult, GradientCheckError, check_grads
from .nonfinite import NonfiniteReport, Origin, detect_anomaly, nonfinite

__all__ = ["check_trace", "check_vjps", "VJPCheckReport", "NodeCheck", "check_grads", "GradientCheckError",
           "GradCheckResult", "nonfinite", "detect_anomaly", "NonfiniteReport", "Origin", "gradient_flow", "FlowReport"]
