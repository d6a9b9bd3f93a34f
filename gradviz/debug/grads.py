"""A whole-function gradient check that, when it fails, says which node is to blame.

``check_grads(fun, *args)`` compares fun's reverse-mode (and forward-mode) derivative with finite differences of
fun itself, like gradviz.test_util.check_grads. When they disagree it runs the per-node VJP check on a trace of
the same call and raises a GradientCheckError naming the broken primitive, its argnum and the user's line.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..core.backward import make_vjp
from ..core.differential_operators import check_input
from ..core.forward import make_jvp
from ..core.tracer import getval
from ..core.vspace import ArrayVSpace, vspace
from ..core.wrap_util import subvals
from .check import _EPS, _STEP, RTOL, NodeCheck, VJPCheckReport, _pair, _precision, _random, _wide, check_vjps

__all__ = ["check_grads", "GradientCheckError", "GradCheckResult"]


class GradientCheckError(AssertionError):
    """The gradient disagrees with finite differences. ``report`` is the per-node check (None if not run),
    ``blame`` the failing node it names: the first whose failing rule is of a mode that failed (the VJP for
    reverse mode, the JVP for forward mode), else its first failure."""

    def __init__(self, message: str, report: VJPCheckReport | None = None, blame: NodeCheck | None = None) -> None:
        super().__init__(message)
        self.report = report
        self.blame = blame if blame is not None else None if report is None else report.first


@dataclass
class GradCheckResult:
    """The relative error of each mode checked (``errors``), and the modes that could not run (``skipped``)."""

    function: str
    errors: dict[str, float] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        parts = [f"{mode}: relative error {error:.2g}" for mode, error in self.errors.items()]
        parts += [f"{mode}: not run ({why})" for mode, why in self.skipped.items()]
        return f"the gradient of {self.function} agrees with finite differences ({'; '.join(parts)})"


def check_grads(fun: Callable, *args: Any, argnum: int | tuple[int, ...] = 0, modes: Sequence[str] = ("rev", "fwd"),
                rtol: float | None = None, seed: int = 0, diagnose: bool = True, **kwargs: Any) -> GradCheckResult:
    """Check fun's derivative in ``args[argnum]`` against finite differences, in each of ``modes``.

    On a mismatch (or a derivative that raises), raise GradientCheckError; with ``diagnose``, its message names
    the node whose VJP fails the per-node check (gradviz.check_vjps), with its source line. A mode whose rules
    are missing (no JVP for a primitive) is skipped, not failed.
    """
    name = getattr(fun, "__name__", type(fun).__name__)
    argnums = (argnum,) if isinstance(argnum, int) else tuple(argnum)
    x = args[argnum] if isinstance(argnum, int) else tuple(args[i] for i in argnums)

    def fun_of_x(x_: Any) -> Any:
        replacements = [(argnum, x_)] if isinstance(argnum, int) else zip(argnums, x_)
        return fun(*subvals(args, replacements), **kwargs)

    fun_of_x.__name__, fun_of_x.argnum = name, argnum
    check_input("check_grads", fun_of_x, x)
    in_space = vspace(x)
    y = fun_of_x(x)
    out_space = vspace(y)
    again = fun_of_x(x)
    if not _same(out_space, y, again):
        raise ValueError(
            f"check_grads: {name} is not deterministic: two calls at the same point gave different values (random "
            "numbers drawn inside it? an argument changed in place?), so finite differences can't check its "
            "gradient. Seed its random numbers inside it, or pass them in as arguments."
        )
    precision = _precision(_flat_dtype(in_space), _flat_dtype(out_space))
    tol = RTOL[precision] if rtol is None else rtol
    rng = np.random.default_rng(seed)
    x_flat = _wide(in_space.flatten(x))
    magnitude = np.abs(x_flat)
    scale = magnitude + 0.1 * ((float(np.mean(magnitude)) if magnitude.size else 0.0) or 10.0)
    u = in_space.unflatten(_random(rng, in_space.size, in_space.iscomplex) * scale if in_space.iscomplex
                           else np.real(_random(rng, in_space.size, False) * scale))
    u_flat = _wide(in_space.flatten(u))
    tangent, noise, step = _numerical_tangent(fun_of_x, in_space, out_space, x_flat, u_flat, _EPS[precision])
    v_flat = _random(rng, out_space.size, out_space.iscomplex)
    if tangent is not None and np.linalg.norm(tangent) > 0:
        v_flat = np.conj(tangent) / np.linalg.norm(tangent) * np.sqrt(out_space.size) + 0.5 * v_flat
    v = out_space.unflatten(v_flat if out_space.iscomplex else np.real(v_flat))
    v_flat = _wide(out_space.flatten(v))
    result = GradCheckResult(name)
    failures = []
    failed_rules = set()  # "VJP" where reverse mode failed, "JVP" where forward mode did
    if tangent is None:
        raise ValueError(f"check_grads: {name} is not finite around the point given, so finite differences can't "
                         "check its gradient there.")
    references = [(_pair(v_flat, tangent), noise)]

    def reference(k: int) -> tuple[float, float] | None:
        """The k-th finite-difference reference: at the first step, then at steps 10x, 100x smaller (a step that
        crosses a kink of the function, e.g. a relu's, is wrong there, and a smaller one is not)."""
        while len(references) <= k:
            smaller, small_noise, _ = _numerical_tangent(fun_of_x, in_space, out_space, x_flat, u_flat,
                                                         _EPS[precision], step / 10 ** len(references), tries=1)
            references.append(None if smaller is None else (_pair(v_flat, smaller), small_noise))
        return references[k]

    for mode in modes:
        if mode not in ("rev", "fwd"):
            raise ValueError(f"check_grads: modes must be 'rev' and/or 'fwd', not {mode!r}")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if mode == "rev":
                    vjp, _ = make_vjp(fun_of_x, x)
                    analytic = _pair(_wide(in_space.flatten(getval(vjp(v)))), u_flat)
                else:
                    _, t = make_jvp(fun_of_x, x)(u)
                    analytic = _pair(v_flat, _wide(out_space.flatten(getval(t))))
        except NotImplementedError as error:
            if mode == "fwd":
                result.skipped[mode] = str(error)
                continue
            failures.append(f"reverse mode raised NotImplementedError: {error}")
            failed_rules.add("VJP")
            continue
        except Exception as error:
            failed_rules.add("VJP" if mode == "rev" else "JVP")
            failures.append(f"{'reverse' if mode == 'rev' else 'forward'} mode raised {type(error).__name__}: "
                            f"{error}")
            continue
        passed, best = False, float("inf")
        for k in range(3):
            known = reference(k)
            if known is None:
                continue
            numeric, noise_k = known
            size = max(abs(analytic), abs(numeric))
            gap = abs(analytic - numeric)
            error_k = gap / size if size > 0 else 0.0
            best = min(best, error_k)
            # The noise of a reference may excuse a gap only where it is small beside the value: a reference as
            # noisy as its value (rounding at a small step in float32) can't tell a right gradient from 2x it.
            if gap <= tol * size or (gap <= tol * size + noise_k and noise_k <= 0.25 * size):
                passed = True
                break
        result.errors[mode] = best
        if not passed:
            failed_rules.add("VJP" if mode == "rev" else "JVP")
            failures.append(f"{'reverse' if mode == 'rev' else 'forward'} mode: relative error {best:.2g} "
                            f"(tolerance {tol:.1g})")
    if not failures:
        return result
    message = f"the gradient of {name} is wrong ({'; '.join(failures)})"
    report = None
    if diagnose:
        report = check_vjps(fun, *args, argnum=argnum, seed=seed, progress=False, **kwargs)
        failed_rules.add("primitive")  # a primitive writing into its argument breaks either mode
        matching = [c for c in report.failures if any(a.status == "fail" and a.rule in failed_rules for a in c.args)]
        first = matching[0] if matching else report.first
        if first is None:
            message += ("; yet no VJP fails the per-node check: the function may not be differentiable at this "
                        "point, may not be deterministic, or a rule that the check skips is wrong"
                        + (f" (skipped: {_skipped(report)})" if report.skipped else ""))
        else:
            failing = [a for a in first.args if a.status == "fail"]
            arg = next((a for a in failing if a.rule in failed_rules), failing[0])
            where = f" at {first.where}" if first.where else ""
            how = f"relative error {arg.error:.2g}" if arg.error is not None else arg.reason
            if arg.error is not None and arg.reason:
                how += f" ({arg.reason})"
            subject = f"the primitive {first.name}" if arg.rule == "primitive" else f"the {arg.rule} of {first.name}"
            message += f"; {subject} (argnum {arg.argnum}){where} fails the check: {how}"
            others = [c for c in report.failures if c is not first]
            if others:
                message += "; also failing: " + ", ".join(f"%{c.node} {c.name} at {c.where or '?'}" for c in others)
        raise GradientCheckError(message, report, first)
    raise GradientCheckError(message, report)


def _same(space: Any, a: Any, b: Any) -> bool:
    try:
        first, second = _wide(space.flatten(getval(a))), _wide(space.flatten(getval(b)))
    except Exception:
        return True  # another structure: left to the comparison with finite differences
    return first.shape == second.shape and bool(np.allclose(first, second, rtol=1e-12, atol=0.0, equal_nan=True))


def _skipped(report: VJPCheckReport) -> str:
    return ", ".join(f"%{c.node} {c.name}" for c in report.skipped[:5]) + (" ..." if len(report.skipped) > 5 else "")


def _flat_dtype(space: Any) -> Any:
    try:
        return space.flatten(space.zeros()).dtype
    except Exception:
        return None


def _numerical_tangent(fun: Callable, in_space: Any, out_space: Any, x_flat: np.ndarray, u_flat: np.ndarray,
                       eps: float, h: float = _STEP, tries: int = 3) -> tuple[np.ndarray | None, float, float]:
    """(J u by Richardson-extrapolated central differences, an estimate of its error in the pairing's units, the
    step used); a smaller step where the function is not finite at the first."""

    wide = [isinstance(in_space, ArrayVSpace) and in_space.shape != ()]
    precisions = []

    def at(point: np.ndarray) -> np.ndarray | None:
        # In double precision where x is an array (a float32 x + h u would round the step away); as x's type else.
        point = point if in_space.iscomplex else np.real(point)
        value = np.reshape(point, in_space.shape) if wide[0] else in_space.unflatten(point)
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                flat = out_space.flatten(getval(fun(value)))
        except Exception:
            return None
        precisions.append(_precision(flat.dtype))
        out = _wide(flat)
        return out if np.all(np.isfinite(out)) else None

    f0 = at(x_flat)
    if f0 is None and wide[0]:  # a function that only takes x's own dtype
        wide[0] = False
        f0 = at(x_flat)
    for _ in range(tries):
        values = [at(x_flat + s * h * u_flat) for s in (1, -1, 0.5, -0.5)]
        if f0 is not None and all(v is not None for v in values):
            plus, minus, plus2, minus2 = values
            d1, d2 = (plus - minus) / (2 * h), (plus2 - minus2) / h
            rounding = _EPS[_precision(*precisions)] if precisions else eps  # what the function computed in
            noise = 0.05 * float(np.sum(np.abs(d2 - d1))) + 50 * rounding * float(np.sum(np.abs(f0))) / h
            return (4 * d2 - d1) / 3, noise * np.sqrt(max(out_space.size, 1)), h
        h /= 10
    return None, 0.0, h
