"""The per-node VJP check: every node's primitive, at the values the trace recorded, against finite differences.

A whole-function gradient check says *that* a gradient is wrong; this one says *which* VJP is. For each node with a
primitive and each traced argument x of it, with random directions u (input) and v (output):

- the VJP's answer <J^T v, u> is compared with <v, J u>, where J u is a central finite difference of the primitive
  itself, Richardson-extrapolated from steps h and h/2 (so that the reference is accurate to ~1e-8 in float64);
- where the primitive has a JVP, the dot-product test <v, J u> (JVP) = <J^T v, u> (VJP) is run too, and it is the
  judge where finite differences can't be trusted (the edge of a domain, a jump).

Pairings are real: Re(sum(a * b)), so a complex VJP follows autograd's convention (g * f'(z) for holomorphic f).
Directions are scaled to the magnitude of each element of x, and v leans towards J u so that the pairing does not
cancel: the relative error of a wrong VJP is then of order one (a flipped sign gives 2, a factor 2 gives 0.5 to 1).
Steps go from 1e-3 |x| down to 1e-10 |x| where larger ones leave the domain, cross a jump, or are too coarse (sin
at 1e6). A failure is only reported when the differences at two steps 10x apart agree with each other and not with
the VJP, and the primitive is deterministic and differentiable there: its directional derivative is linear in the
direction (the median of equal values is not). A point where one-sided differences disagree at two steps (a kink:
relu at 0, abs at 0, ties of max) accepts any VJP between them. A symmetric (Hermitian) argument that fails along
general directions is checked along symmetric ones (eigh, cholesky read one triangle); a float32 failure is checked
again in double precision (rounding, not the rule, may be at fault). For arrays of more than 16 elements the last
of two or more directions is sparse (first, last and a few random elements): a bug in one element is not diluted.
A VJP that raises, returns another shape, or writes into its outgrad or its argument fails; so do a JVP that
raises, returns another shape or disagrees with both (named as the JVP), and a primitive that writes into its
argument. Arrays of any size cost a few evaluations per direction: no Jacobian is formed.
"""

from __future__ import annotations

import html
import warnings
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np

from ..core import backward, forward
from ..core.sparse import densify
from ..core.tracer import box_types, getval
from ..core.vspace import ArrayVSpace, describe, vspace
from .located import AtNode

__all__ = ["ArgCheck", "NodeCheck", "VJPCheckReport", "check_trace", "check_vjps", "check_recipe", "RTOL"]

# Relative tolerance of a VJP against its reference, by the precision the rules computed in. Wrong rules are off
# by O(1); these leave room for rounding in the rules and for numerical rules (def_numerical_vjp, ~1e-5).
RTOL = {"float64": 1e-4, "complex128": 1e-4, "float32": 1e-2, "complex64": 1e-2, "float16": 1e-1}
_PRECISION_DTYPE = {"float64": np.float64, "complex128": np.float64, "float32": np.float32, "complex64": np.float32,
                    "float16": np.float16}
_EPS = {"float64": 2.2e-16, "complex128": 2.2e-16, "float32": 1.2e-7, "complex64": 1.2e-7, "float16": 1e-3}
_STEP = 1e-3  # relative finite-difference step: optimal for a Richardson-extrapolated central difference in f64


@dataclass
class ArgCheck:
    """The check of one traced argument of one node."""

    argnum: int
    status: str  # "pass", "fail" or "skip"
    error: float | None = None  # relative error of the VJP against its reference (worst direction)
    tolerance: float | None = None
    reason: str = ""  # why it was skipped, or what failed
    against: str = ""  # "finite differences", "JVP", ...
    shape: str = ""  # the argument's type, e.g. float64[3, 2]
    jvp_error: float | None = None  # the dot-product test's relative error, where the JVP exists
    rule: str = "VJP"  # what a failure is blamed on: "VJP", "JVP" (a JVP that raises or disagrees), or "primitive"


@dataclass
class NodeCheck(AtNode):
    """The check of one node: one ArgCheck per traced argument; ``status`` is the worst of them."""

    node: int
    primitive: str | None
    status: str
    args: list[ArgCheck]
    output: str = ""  # the output's type
    site: Any = None  # gradviz.record.Site of the user's line
    code: str | None = None
    order: int = 0  # position in the backward pass

    @property
    def error(self) -> float | None:
        errors = [arg.error for arg in self.args if arg.error is not None]
        return max(errors) if errors else None

    @property
    def argnum(self) -> int | None:
        """The first failing argnum (else the first checked)."""
        for arg in self.args:
            if arg.status == "fail":
                return arg.argnum
        return self.args[0].argnum if self.args else None

    @property
    def shapes(self) -> dict:
        return {"args": {arg.argnum: arg.shape for arg in self.args}, "output": self.output}

    def message(self) -> str:
        """One line: what failed, where, and by how much."""
        where = f" at {self.where}" if self.where else ""
        if self.status == "skip":
            reasons = "; ".join(sorted({arg.reason for arg in self.args if arg.reason}))
            return f"the VJP of {self.name} (node %{self.node}){where} was not checked: {reasons}"
        parts = []
        for arg in self.args:
            if arg.status != self.status:
                continue
            if arg.error is not None:
                how = f"relative error {arg.error:.2g} against {arg.against} (tolerance {arg.tolerance:.1g})"
            else:
                how = arg.reason
            if self.status == "fail" and arg.reason and arg.error is not None:
                how += f"; {arg.reason}"
            parts.append(f"argnum {arg.argnum} {arg.shape}: {how}")
        verdict = "fails the check" if self.status == "fail" else "passes"
        return f"{self.subject} (node %{self.node}){where} {verdict}: " + "; ".join(parts)

    @property
    def rule(self) -> str:
        """What a failure is blamed on: "VJP"; "JVP" where only the JVP is wrong; "primitive" where the primitive
        itself changes its argument in place."""
        rules = {arg.rule for arg in self.args if arg.status == "fail"}
        return rules.pop() if len(rules) == 1 and rules <= {"JVP", "primitive"} else "VJP"

    @property
    def subject(self) -> str:
        return f"the primitive {self.name}" if self.rule == "primitive" else f"the {self.rule} of {self.name}"

    def __str__(self) -> str:
        return self.message()


@dataclass
class VJPCheckReport:
    """What ``check_trace`` found: one NodeCheck per node with a primitive, in the order the backward pass meets
    them; ``failures`` in that order, ``first`` the first of them (None when every VJP checked passes)."""

    nodes: list[NodeCheck]
    function: str = ""
    trace: Any = field(default=None, repr=False)

    @property
    def failures(self) -> list[NodeCheck]:
        return [check for check in self.nodes if check.status == "fail"]

    @property
    def passed(self) -> list[NodeCheck]:
        return [check for check in self.nodes if check.status == "pass"]

    @property
    def skipped(self) -> list[NodeCheck]:
        return [check for check in self.nodes if check.status == "skip"]

    @property
    def first(self) -> NodeCheck | None:
        failures = self.failures
        return failures[0] if failures else None

    @property
    def ok(self) -> bool:
        """No VJP failed (skipped ones aside)."""
        return not self.failures

    @property
    def failed_primitives(self) -> set[str]:
        return {check.primitive for check in self.failures}

    def __getitem__(self, node_id: int) -> NodeCheck:
        for check in self.nodes:
            if check.node == node_id:
                return check
        raise KeyError(f"node %{node_id} was not checked")

    def summary(self) -> str:
        counts = f"{len(self.passed)} passed, {len(self.failures)} failed, {len(self.skipped)} skipped"
        if self.first is None:
            return f"VJP check of {self.function}: every VJP checked agrees ({counts})"
        return f"VJP check of {self.function}: {counts}; first failure: {self.first.message()}"

    def _rows(self, everything: bool) -> list[NodeCheck]:
        return self.nodes if everything else [c for c in self.nodes if c.status != "pass"]

    def table(self, everything: bool = False) -> str:
        """A text table of the failures and skips (``everything``: every node)."""
        head = ("node", "status", "primitive", "argnum", "shapes", "error", "where / why")
        rows = [head]
        for check in self._rows(everything):
            for arg in check.args or [ArgCheck(-1, check.status)]:
                error = "" if arg.error is None else f"{arg.error:.2g}"
                note = check.where if arg.status != "skip" else arg.reason
                if arg.status == "fail" and arg.error is None:
                    note = f"{check.where}: {arg.reason}" if check.where else arg.reason
                rows.append((f"%{check.node}", arg.status, check.name, "" if arg.argnum < 0 else str(arg.argnum),
                             _clip(f"{arg.shape} -> {check.output}"), error, note))
        widths = [max(len(row[i]) for row in rows) for i in range(len(head) - 1)]
        return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1]
                         for row in rows)

    def __str__(self) -> str:
        text = self.summary()
        if self.failures or self.skipped:
            text += "\n" + self.table()
        return text

    def __repr__(self) -> str:
        return (f"<VJPCheckReport of {self.function}: {len(self.passed)} passed, {len(self.failures)} failed, "
                f"{len(self.skipped)} skipped>")

    def _repr_html_(self) -> str:
        everything = len(self.nodes) <= 50
        cells = []
        for check in self._rows(everything):
            for arg in check.args or [ArgCheck(-1, check.status)]:
                colour = {"fail": "#fdd", "pass": "", "skip": "#eee"}[arg.status]
                error = "" if arg.error is None else f"{arg.error:.2g}"
                note = check.where if arg.status == "pass" else (arg.reason or check.where)
                if arg.status == "fail" and check.where and arg.reason:
                    note = f"{check.where}: {arg.reason}"
                values = (f"%{check.node}", arg.status, check.name, "" if arg.argnum < 0 else str(arg.argnum),
                          f"{arg.shape} → {check.output}", error, note)
                cells.append(f'<tr style="background:{colour}">'
                             + "".join(f"<td>{html.escape(str(value))}</td>" for value in values) + "</tr>")
        head = "".join(f"<th>{name}</th>" for name in ("node", "status", "primitive", "argnum", "shapes", "error",
                                                       "where / why"))
        hidden = "" if everything else (f"<p>{len(self.passed)} passing nodes not shown "
                                        "(report.table(everything=True) lists them).</p>")
        return (f"<div><p>{html.escape(self.summary())}</p><table><thead><tr>{head}</tr></thead><tbody>"
                + "".join(cells) + f"</tbody></table>{hidden}</div>")

    def raise_if_failed(self) -> None:
        if self.first is not None:
            raise AssertionError(self.summary())


def _clip(text: str, width: int = 48) -> str:
    return text if len(text) <= width else text[:width - 3] + "..."


# --- one node, one argument

def _rules_for(fun: Any, argnum: int) -> tuple[bool, bool]:
    """(has a VJP for argnum, that VJP is declared zero)."""
    return backward.has_vjp(fun, argnum), backward.vjp_is_zero(fun, argnum)


def _vjp(recipe: Any, argnum: int, g: Any) -> Any:
    ingrad = backward.apply_vjp(recipe.fun, argnum, recipe.value, recipe.args, recipe.kwargs, g)
    return None if ingrad is None else densify(ingrad)


def _jvp(recipe: Any, argnum: int, u: Any) -> Any:
    return forward.apply_jvp(recipe.fun, argnum, recipe.value, recipe.args, recipe.kwargs, u)


def _finite(flat: np.ndarray) -> bool:
    return bool(np.all(np.isfinite(flat)))


def _wide(flat: np.ndarray) -> np.ndarray:
    """``flat`` in double precision (complex128 for complex)."""
    return flat.astype(np.complex128 if np.iscomplexobj(flat) else np.float64)


def _pair(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.real(np.sum(a * b)))


def _random(rng: np.random.Generator, n: int, complex_: bool) -> np.ndarray:
    draw = rng.standard_normal(n)
    return draw + 1j * rng.standard_normal(n) if complex_ else draw


def _precision(*dtypes: Any) -> str:
    """The lowest precision among ``dtypes`` (what the rules computed in)."""
    names = [np.dtype(d).name for d in dtypes if d is not None and np.dtype(d).kind in "fc"]
    for name in ("float16", "float32", "complex64"):
        if name in names:
            return name
    return "float64"


def _dtype_of(space: Any) -> Any:
    try:
        return space.flatten(space.zeros()).dtype
    except Exception:
        return None


class _Skip(Exception):
    pass


class _Fail(Exception):
    def __init__(self, reason: str, rule: str = "VJP") -> None:
        super().__init__(reason)
        self.rule = rule  # the rule found wrong: "VJP" or "JVP"


def check_recipe(recipe: Any, argnum: int, rng: np.random.Generator | None = None, directions: int = 2,
                 rtol: float | None = None, _widened: bool = False) -> ArgCheck:
    """Check the VJP of ``recipe``'s primitive for argument ``argnum`` at the recipe's values."""
    rng = np.random.default_rng(0) if rng is None else rng
    fun, args = recipe.fun, [getval(arg) for arg in recipe.args]
    x, ans = args[argnum], getval(recipe.value)
    result = ArgCheck(argnum, "skip", shape=_describe(x))
    has, zero = _rules_for(fun, argnum)
    if not has:
        result.reason = "no VJP rule"
        return result
    if zero:
        result.reason = "its VJP is declared zero"
        return result
    try:
        in_space, out_space = vspace(x), vspace(ans)
    except TypeError:
        result.reason = "not a differentiable value"
        return result
    if not (in_space.is_differentiable and out_space.is_differentiable):
        which = "argument" if not in_space.is_differentiable else "output"
        result.reason = f"integer or boolean {which}"
        return result
    if in_space.size == 0 or out_space.size == 0:
        result.reason = "empty array"
        return result
    x_flat, ans_flat = _wide(in_space.flatten(x)), _wide(out_space.flatten(ans))
    if not (_finite(x_flat) and _finite(ans_flat)):
        result.reason = "non-finite value"
        return result
    precision = _precision(_dtype_of(in_space), _dtype_of(out_space))
    tol = RTOL[precision] if rtol is None else rtol
    result.tolerance = tol
    state = SimpleNamespace(x=x, args=args, argnum=argnum, fun=fun, in_space=in_space, out_space=out_space,
                            x_flat=x_flat, precision=precision, tol=tol)
    state.symmetric = None
    worst = _directions(recipe, state, rng, directions, result.shape)
    symmetry = _symmetry(in_space, x) if worst.status == "fail" and worst.error is not None else None
    if symmetry is not None:
        # eigh, cholesky and the like read one triangle of a symmetric (Hermitian) argument, and their VJPs give
        # the gradient for symmetric perturbations: check them along those.
        state.symmetric = symmetry
        again = _directions(recipe, state, rng, directions, result.shape)
        if again.status != "fail":
            again.reason = (f"checked along {symmetry} directions only: the argument is {symmetry} (the "
                            "primitive may read one triangle of it)")
            return again
    if worst.status == "fail" and worst.error is not None and precision not in ("float64", "complex128") \
            and not _widened:
        # A rule computing in float32 may lose more than the tolerance to cancellation (1 - tanh(x)^2 near 1):
        # a failure counts only if the same rule, given the same values in double precision, fails too.
        wide = _widened_recipe(recipe)
        if wide is not None:
            again = check_recipe(wide, argnum, rng, directions, rtol, _widened=True)
            if again.status == "pass":
                again.reason = (f"passes in double precision; in {precision} its rounding error ({worst.error:.2g}) "
                                "exceeds the tolerance here")
                again.shape = result.shape
                return again
    return worst


def _widen(value: Any) -> Any:
    """``value`` with its float32 / float16 / complex64 arrays and scalars in double precision."""
    if isinstance(value, (np.ndarray, np.generic)) and value.dtype.kind in "fc" and value.dtype.itemsize < (
            16 if value.dtype.kind == "c" else 8):
        return value.astype(np.complex128 if value.dtype.kind == "c" else np.float64)
    if type(value) in (list, tuple):
        return type(value)(_widen(item) for item in value)
    if type(value) is dict:
        return {key: _widen(item) for key, item in value.items()}
    return value


def _widened_recipe(recipe: Any) -> Any:
    """The recipe with its arguments in double precision and its value computed again from them (None if the
    primitive refuses them)."""
    args = [_widen(getval(arg)) for arg in recipe.args]
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            value = recipe.fun.fun(*args, **recipe.kwargs)
    except Exception:
        return None
    return SimpleNamespace(fun=recipe.fun, args=args, kwargs=recipe.kwargs, value=value)


def _directions(recipe: Any, state: Any, rng: np.random.Generator, directions: int, shape: str) -> ArgCheck:
    worst: ArgCheck | None = None
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        # A bug in a few elements (an off-by-one at an edge) is diluted in a dense direction (its share of
        # <J^T v, u> is about 1 / size): for arrays of more than _SPARSE elements, the last of two or more
        # directions is sparse, on the first and last elements and a few random ones.
        count = max(1, directions)
        sparse_at = count - 1 if count >= 2 and state.in_space.size > _SPARSE else -1
        for k in range(count):
            try:
                one = _one_direction(recipe, state, rng, sparse=k == sparse_at)
            except _Skip as skip:
                one = ArgCheck(state.argnum, "skip", reason=str(skip))
            except _Fail as fail:
                one = ArgCheck(state.argnum, "fail", reason=str(fail), rule=fail.rule)
            one.shape, one.tolerance = shape, one.tolerance if one.tolerance is not None else state.tol
            worst = one if worst is None else _worse(worst, one)
            if worst.status == "fail":
                break
    return worst


def _symmetry(space: Any, x: Any) -> str | None:
    """"symmetric" or "Hermitian" when x is a (stack of) square matrices equal to its (conjugate) transpose."""
    if not isinstance(space, ArrayVSpace) or space.ndim < 2 or space.shape[-1] != space.shape[-2]:
        return None
    x = np.asarray(x)
    transposed = np.swapaxes(x, -1, -2)
    if np.allclose(x, transposed, rtol=1e-10, atol=1e-12 * float(np.max(np.abs(x), initial=1.0))):
        return "symmetric"
    if space.iscomplex and np.allclose(x, np.conj(transposed), rtol=1e-10):
        return "Hermitian"
    return None


def _worse(a: ArgCheck, b: ArgCheck) -> ArgCheck:
    rank = {"fail": 2, "pass": 1, "skip": 0}
    if rank[a.status] != rank[b.status]:
        return a if rank[a.status] > rank[b.status] else b
    return a if (a.error or 0.0) >= (b.error or 0.0) else b


def _describe(value: Any) -> str:
    try:
        return describe(value)
    except Exception:
        return type(value).__name__


def _call(state: Any, x_flat: np.ndarray, probe: bool = False) -> np.ndarray | None:
    """The primitive at x = x_flat (in double precision where x is an array), flattened; None if it fails.
    ``probe``: x_flat is kept, so pass the primitive a copy, and note whether it writes into it."""
    space = state.in_space
    given = None
    if isinstance(space, ArrayVSpace):
        given = np.reshape(x_flat if space.iscomplex else np.real(x_flat), space.shape)
        x = _same_layout(state.x, given)
        if probe:
            x = np.array(x, order="K")
        else:
            given = None
        if space.shape == ():
            x = x[()]
    else:
        x = space.unflatten(x_flat if space.iscomplex else np.real(x_flat))
    args = list(state.args)
    args[state.argnum] = x
    try:
        out = state.fun.fun(*args, **state.recipe_kwargs)
        flat = state.out_space.flatten(out)
    except Exception:
        return None
    if given is not None and not np.array_equal(x, given, equal_nan=True):
        state.mutates = True
    state.fd_precision = _precision(flat.dtype)
    return _wide(flat)


def _differences(state: Any, x_flat: np.ndarray, u_flat: np.ndarray, f0: np.ndarray, h: float) -> tuple | None:
    """f at x + h u, x - h u, x + h/2 u, x - h/2 u (flattened, double precision); None if any is not finite."""
    values = [_call(state, x_flat + s * h * u_flat) for s in (1, -1, 0.5, -0.5)]
    if all(v is not None and v.shape == f0.shape and _finite(v) for v in values):
        return tuple(values)
    return None


def _same_layout(like: Any, values: np.ndarray) -> np.ndarray:
    """``values`` laid out in memory as ``like`` is (ravel(order="K") and reshape(order="A") read the layout)."""
    if type(like) is not np.ndarray or like.ndim < 2 or like.flags.c_contiguous:
        return values
    out = np.empty_like(like, dtype=values.dtype)
    out[...] = values
    return out


def _direction(rng: np.random.Generator, state: Any, sparse: bool = False) -> tuple[np.ndarray, Any]:
    """A random direction in x's space (flat, double precision, as rounded to x's dtype; and as x's type), scaled to
    the magnitude of each element of x, symmetric where the argument is checked along symmetric directions;
    ``sparse``: nonzero only on the first and last elements and a few random ones."""
    in_space, x_flat = state.in_space, state.x_flat
    magnitude = np.abs(x_flat)
    scale = magnitude + 0.1 * (float(np.mean(magnitude)) or 10.0)  # per-element step scale, never zero
    u_flat = _random(rng, in_space.size, in_space.iscomplex) * scale
    if sparse:
        keep = np.zeros(in_space.size, dtype=bool)
        keep[[0, -1]] = True
        keep[rng.choice(in_space.size, size=min(4, in_space.size), replace=False)] = True
        # each kept element the same size (its scale), so that none of them is drowned by the others
        u_flat = np.where(keep, u_flat / np.maximum(np.abs(u_flat), 1e-300) * scale, 0.0)
    if state.symmetric is not None:
        square = np.reshape(u_flat, in_space.shape)
        other = np.swapaxes(square, -1, -2)
        u_flat = np.ravel((square + (np.conj(other) if state.symmetric == "Hermitian" else other)) / 2)
    u = in_space.unflatten(u_flat.astype(x_flat.dtype) if in_space.iscomplex else np.real(u_flat))
    return _wide(in_space.flatten(u)), _same_layout(state.x, u)  # as rounded to x's dtype: the rules see this u


def _ladder(state: Any, u_flat: np.ndarray, f0: np.ndarray, steps: list) -> tuple[float | None, tuple | None]:
    """The next step of ``steps`` (popped) at which the primitive is finite around x, with its differences."""
    while steps:
        h = steps.pop(0)
        fd = _differences(state, state.x_flat, u_flat, f0, h)
        if fd is not None:
            return h, fd
    return None, None


def _tangent_of(fd: tuple, h: float) -> np.ndarray:
    """J u from the differences at steps h and h/2, Richardson-extrapolated."""
    plus, minus, plus2, minus2 = fd
    d1, d2 = (plus - minus) / (2 * h), (plus2 - minus2) / h
    return (4 * d2 - d1) / 3


def _one_direction(recipe: Any, state: Any, rng: np.random.Generator, sparse: bool = False) -> ArgCheck:
    in_space, out_space, argnum = state.in_space, state.out_space, state.argnum
    state.recipe_kwargs = recipe.kwargs
    x_flat = state.x_flat
    u_flat, u = _direction(rng, state, sparse)
    eps = _EPS[state.precision]

    state.mutates = False
    f0 = _call(state, x_flat, probe=True)
    if state.mutates:
        raise _Fail("the primitive changes its argument in place (x += ..., x.sort(), out=x): the value recorded "
                    "for that argument, which the VJPs use, is then not the one it was given; make a new array",
                    "primitive")
    if f0 is None or f0.shape != (out_space.size,):
        raise _Skip("the primitive can't be called again on its recorded arguments")
    fd_eps = _EPS.get(state.fd_precision, eps)  # finite differences round at the precision the primitive gave
    # Steps h, h/10, h/100, ...: smaller ones where larger ones leave the domain, cross a kink or a jump, or are too
    # coarse for the function (an oscillation at a large argument: sin(1e6 x) moves a lot in a step of 1e-3 x).
    steps = [_STEP / 10 ** k for k in range(_STEPS)]
    h, fd = _ladder(state, u_flat, f0, steps)
    tangent = None if fd is None else _tangent_of(fd, h)

    # v leans towards J u (no cancellation in <v, J u>), plus a random part (bugs orthogonal to J u show too).
    r = _random(rng, out_space.size, out_space.iscomplex)
    v_flat = r
    if tangent is not None:
        size = float(np.linalg.norm(tangent))
        if size > 0 and np.isfinite(size):
            v_flat = np.conj(tangent) / size * np.sqrt(out_space.size) + 0.5 * r
    v = out_space.unflatten(v_flat if out_space.iscomplex else np.real(v_flat))
    v_flat = _wide(out_space.flatten(v))

    try:
        w = _vjp(recipe, argnum, v)
    except Exception as error:
        raise _Fail(f"the VJP raised {type(error).__name__}: {error}") from None
    if not np.array_equal(_wide(out_space.flatten(v)), v_flat, equal_nan=True):
        raise _Fail("the VJP changed its outgrad g in place (g *= ... or g[...] = ...): it must make a new array, "
                    "since g may be shared with other steps of the backward pass")
    if not np.array_equal(_wide(in_space.flatten(state.x)), x_flat, equal_nan=True):
        raise _Fail("the VJP changed the primitive's argument in place: it must leave its inputs alone")
    if w is None:
        w = in_space.zeros()
    while type(w) in box_types:
        w = w._value
    try:
        backward.check_outgrad(recipe.fun, argnum, state.x, w)
    except ValueError as error:
        raise _Fail(str(error)) from None
    w_flat = _wide(in_space.flatten(w))
    if not _finite(w_flat):
        raise _Skip("the VJP is not finite here")
    analytic = _pair(w_flat, u_flat)
    terms = float(np.sum(np.abs(w_flat * u_flat)))
    if not (np.isfinite(analytic) and np.isfinite(terms)):
        raise _Skip(_OVERFLOW)

    jvp_value = None
    if forward.has_jvp(recipe.fun, argnum):
        try:
            t = _jvp(recipe, argnum, u)
        except NotImplementedError:
            t = _NO_TANGENT  # a rule that declines these arguments: nothing to compare with
        except Exception as error:
            raise _Fail(f"the JVP raised {type(error).__name__}: {error}", "JVP") from None
        if not np.array_equal(_wide(in_space.flatten(u)), u_flat, equal_nan=True):
            raise _Fail("the JVP changed its input tangent in place: it must make a new array", "JVP")
        while type(t) in box_types:
            t = t._value
        if t is not _NO_TANGENT:
            try:
                t_flat = np.zeros(out_space.size) if t is None else _wide(out_space.flatten(densify(t)))
            except Exception:
                t_flat = None
            if t_flat is None or t_flat.shape != v_flat.shape:
                raise _Fail(f"the JVP returned a tangent of {_describe(t)} for an output of {_describe(recipe.value)}"
                            ": a JVP must return a tangent with the output's shape", "JVP")
            if _finite(t_flat):
                jvp_value = _pair(v_flat, t_flat)
                terms = max(terms, float(np.sum(np.abs(v_flat * t_flat))))

    # Below the smallest normal number of the rules' precision (exp(-400) in float32) a rule's answer underflows
    # to zero, while the double-precision differences still see it.
    floor = 1e3 * float(np.finfo(_PRECISION_DTYPE[state.precision]).tiny) * float(np.sum(np.abs(v_flat))) \
        * float(np.max(np.abs(u_flat), initial=0.0))

    def judge(reference: float, noise: float, against: str) -> ArgCheck:
        gap = abs(analytic - reference)
        size = max(abs(analytic), abs(reference))
        allowed = state.tol * size + noise + 50 * eps * terms + floor
        if not (np.isfinite(gap) and np.isfinite(allowed)):
            raise _Skip(_OVERFLOW)
        error = gap / size if size > 0 else (0.0 if gap == 0 else float("inf"))
        tolerance = allowed / size if size > 0 else state.tol
        status = "pass" if gap <= allowed else "fail"
        return ArgCheck(argnum, status, error, tolerance, against=against)

    jvp_check = judge(jvp_value, 0.0, "the JVP") if jvp_value is not None else None
    jvp_error = None if jvp_check is None else jvp_check.error

    pending = None  # (the FD estimate of <v, J u>, its check): a failure at one step, to be confirmed at the next
    kink = None  # the one-sided range (low, high, noise) seen at the last step, where it looked like a kink
    while fd is not None:
        plus, minus, plus2, minus2 = fd
        d1, d2 = (plus - minus) / (2 * h), (plus2 - minus2) / h
        tangent = (4 * d2 - d1) / 3
        numeric = _pair(v_flat, tangent)
        terms_fd = float(np.sum(np.abs(v_flat * tangent)))
        # The extrapolated difference is far more accurate than |d2 - d1|; rounding costs eps |f| / h per term.
        rounding = 50 * fd_eps * float(np.sum(np.abs(v_flat * f0))) / h
        noise = 0.05 * abs(_pair(v_flat, d2 - d1)) + rounding
        # One-sided differences: a kink keeps the same gap between them at h/2 as at h (a smooth function
        # halves it, a jump doubles it).
        ahead, behind = (plus - f0) / h, (f0 - minus) / h
        ahead2, behind2 = (plus2 - f0) / (h / 2), (f0 - minus2) / (h / 2)
        gap1, gap2 = _pair(v_flat, ahead - behind), _pair(v_flat, ahead2 - behind2)
        visible = abs(gap2) > state.tol * max(terms_fd, terms, 1e-300) and abs(gap2) > 4 * rounding
        jump = visible and abs(gap2) >= 1.5 * abs(gap1)
        if visible and 0.75 * abs(gap1) < abs(gap2) < 1.5 * abs(gap1):
            low, high = sorted((_pair(v_flat, ahead2), _pair(v_flat, behind2)))
            if kink is not None and abs(gap2) < 1.5 * kink[2] and abs(gap2) > 0.75 * kink[2]:
                # the same gap at a 10x smaller step too: a kink at x itself, not one that the step crossed
                _deterministic(state, f0)
                return _at_kink(argnum, analytic, low, high, state.tol * max(abs(low), abs(high)) + noise,
                                jvp_error)
            kink = (low, high, abs(gap2), noise)
            h, fd = _ladder(state, u_flat, f0, steps)
            continue
        kink = None
        # Smooth: d(h) and d(h/2) agree to O(h^2) (1e-6 relative); a jump or an unstable output (an eigenvector's
        # sign) makes them disagree by O(1). Such differences can't judge a VJP.
        spread = abs(_pair(v_flat, d2 - d1))
        reliable = not jump and (spread <= 0.01 * max(abs(numeric), terms_fd * state.tol, 1e-300)
                                 or spread <= rounding)
        if reliable:
            check = judge(numeric, noise, "finite differences")
            check.jvp_error = jvp_error
            if check.status == "pass":
                if jvp_check is not None and jvp_check.status == "fail":
                    check.status = "fail"
                    check.reason = "the JVP disagrees with the VJP and with finite differences: the JVP is wrong"
                    check.error = jvp_error
                    check.against = "the JVP"
                    check.rule = "JVP"
                return check
            if pending is not None and _consistent(pending[0], numeric, analytic):
                # Two steps, 10x apart, agree with each other and not with the VJP. Unless the primitive is not
                # differentiable here (its directional derivative is not linear in the direction: ties of max or
                # median, a near-repeated eigenvalue), the VJP is wrong.
                _deterministic(state, f0)
                if not _linear(state, rng, f0, h, u_flat, tangent):
                    raise _Skip("not differentiable at the recorded value (its directional derivatives are not "
                                "linear in the direction: a tie, as in max or median of equal values, or a kink)")
                return pending[1] if (pending[1].error or 0) <= (check.error or 0) else check
            pending = (numeric, check)
        h, fd = _ladder(state, u_flat, f0, steps)
    _deterministic(state, f0)
    if kink is not None:  # the smallest step usable still sees the kink
        low, high, _, noise = kink
        return _at_kink(argnum, analytic, low, high, state.tol * max(abs(low), abs(high)) + noise, jvp_error)
    if jvp_check is not None:
        jvp_check.jvp_error = jvp_error
        if jvp_check.status == "fail":
            jvp_check.reason = ("the VJP and the JVP disagree, and finite differences can't tell which is wrong here "
                                "(the edge of the domain, a jump, or an unstable output)")
        else:
            jvp_check.reason = "finite differences unreliable here; checked against the JVP only"
        return jvp_check
    raise _Skip("finite differences unreliable here (the edge of the domain, a jump, or an unstable output) and "
                "no JVP to compare with")


_NO_TANGENT = object()
_OVERFLOW = "the values are too large to compare in double precision (their products overflow)"
_STEPS = 8  # relative finite-difference steps 1e-3 ... 1e-10
_SPARSE = 16  # arrays larger than this are probed along a sparse direction too


def _deterministic(state: Any, f0: np.ndarray) -> None:
    """Skip a primitive that gives another value when called again at the same arguments: finite differences of
    it are noise (random numbers drawn inside it: a dropout mask)."""
    again = _call(state, state.x_flat, probe=True)
    if again is None or again.shape != f0.shape or not np.allclose(again, f0, rtol=1e-9, atol=0.0, equal_nan=True):
        raise _Skip("the primitive is not deterministic: called again at its recorded arguments it gives another "
                    "value (random numbers drawn inside it?), so finite differences can't check its VJP")


def _at_kink(argnum: int, analytic: float, low: float, high: float, slack: float,
             jvp_error: float | None) -> ArgCheck:
    """At a kink any VJP between the one-sided derivatives is right (a subgradient); another can't be judged."""
    if low - slack <= analytic <= high + slack:
        return ArgCheck(argnum, "pass", 0.0, None, "not differentiable here (a kink): the VJP is between the "
                        "one-sided derivatives", "one-sided differences", jvp_error=jvp_error)
    raise _Skip("not differentiable at the recorded value (one-sided differences disagree)")


def _consistent(first: float, second: float, analytic: float) -> bool:
    """Two finite-difference estimates agree with each other far better than either agrees with the VJP."""
    return abs(first - second) <= 0.25 * min(abs(first - analytic), abs(second - analytic))


def _linear(state: Any, rng: np.random.Generator, f0: np.ndarray, h: float, u_flat: np.ndarray,
            tangent: np.ndarray) -> bool:
    """Whether the finite-difference derivative at step h is linear in the direction: D(u + w) = D(u) + D(w) for
    a few random directions w. Where it can't be measured (the domain's edge), assume so."""
    for _ in range(4):  # a tie (median of equal values) is linear on cones: one w may share u's cone by chance
        w_flat, _ = _direction(rng, state)
        along_w = _differences(state, state.x_flat, w_flat, f0, h)
        along_both = _differences(state, state.x_flat, u_flat + w_flat, f0, h)
        if along_w is None or along_both is None:
            continue
        t_w, t_both = _tangent_of(along_w, h), _tangent_of(along_both, h)
        scale = float(np.linalg.norm(tangent) + np.linalg.norm(t_w))
        if float(np.linalg.norm(t_both - tangent - t_w)) > 0.01 * scale + 1e-300:
            return False
    return True


# --- whole traces

def _order(trace: Any) -> dict[int, int]:
    """Node id -> position in the backward pass (nodes it never reached: after, by decreasing id)."""
    order: dict[int, int] = {}
    for step in trace.steps or ():
        order.setdefault(step.node, len(order))
    return order


def _recipes(trace: Any) -> dict:
    recipes = trace.recipes
    if recipes is not None:
        return recipes
    if trace.call is None:
        raise ValueError(
            "this trace has no recipes and no call to run again (it was read from JSON?): make it with "
            "gradviz.trace(fun, *args, keep_recipes=True), or call gradviz.check_vjps(fun, *args)."
        )
    from ..record.trace import trace as record

    fun, args, kwargs, argnum = trace.call
    again = record(fun, *args, argnum=argnum, backward=False, keep_recipes=True, **kwargs)
    before = [(node.id, node.primitive) for node in trace.nodes]
    after = [(node.id, node.primitive) for node in again.nodes]
    difference = None
    if before != after:
        difference = f"running it again made other nodes (primitives {_first_difference(before, after)})"
    elif not _same_value(trace.value, again.value):
        difference = "running it again gave another value"
    if difference is not None:
        raise RuntimeError(
            f"{trace.function} is not deterministic: {difference}, so its nodes can't be checked at the recorded "
            "values. Make it deterministic (seed its random numbers, don't change its arguments in place), or trace "
            "it with gradviz.trace(..., keep_recipes=True) and call .check() on that trace."
        )
    return again.recipes


def _same_value(a: Any, b: Any) -> bool:
    try:
        space = vspace(a)
        return bool(np.allclose(space.flatten(a), vspace(b).flatten(b), rtol=1e-9, atol=0.0, equal_nan=True))
    except Exception:
        return True  # not comparable as numbers: the nodes matched, which is the check that matters


def _first_difference(before: list, after: list) -> str:
    for (i, a), (_, b) in zip(before, after):
        if a != b:
            return f"%{i} was {a}, now {b}"
    return f"{len(before)} nodes before, {len(after)} now"


def check_trace(trace: Any, *, directions: int = 2, rtol: float | None = None, seed: int = 0,
                progress: bool | None = None, nodes: Any = None, max_per_line: int | None = None) -> VJPCheckReport:
    """Check every node's VJP at the values ``trace`` recorded; fill ``trace.annotations`` ("vjp-check").

    The trace's function is run again (with recipes kept) unless the trace was made with ``keep_recipes=True``.
    ``directions``: random directions per argument; ``rtol``: the tolerance (default by dtype, see RTOL);
    ``progress``: a tqdm bar (default: when there are more than 200 nodes); ``nodes``: ids to check (default all);
    ``max_per_line``: check at most this many nodes of one primitive made by one line (a long loop's), skip the rest.
    """
    if not hasattr(trace, "nodes") or not hasattr(trace, "recipes"):
        raise TypeError(f"check_trace takes a gradviz.Trace (from gradviz.trace(fun, *args)), not "
                        f"{type(trace).__name__}; to check a function, call gradviz.check_vjps(fun, *args).")
    recipes = _recipes(trace)
    order = _order(trace)
    wanted = None if nodes is None else set(nodes)
    records = [node for node in trace.nodes if node.id in recipes and (wanted is None or node.id in wanted)]
    show = len(records) > 200 if progress is None else progress
    rng = np.random.default_rng(seed)
    checks = []
    bar = None
    if show:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(records), desc=f"checking the VJPs of {trace.function}", unit="node")
    per_line: dict[tuple, int] = {}
    try:
        for record in records:
            recipe = recipes[record.id]
            line = (record.primitive, None if record.site is None else (record.site.file, record.site.line))
            per_line[line] = seen = per_line.get(line, 0) + 1
            if max_per_line is not None and seen > max_per_line:
                reason = f"sampled: {max_per_line} nodes of {record.primitive} on this line are checked"
                args = [ArgCheck(argnum, "skip", reason=reason, shape=_describe(getval(recipe.args[argnum])))
                        for argnum in recipe.argnums]
            else:
                args = [check_recipe(recipe, argnum, rng, directions, rtol) for argnum in recipe.argnums]
            statuses = {arg.status for arg in args}
            status = "fail" if "fail" in statuses else "pass" if "pass" in statuses else "skip"
            checks.append(NodeCheck(record.id, record.primitive, status, args, _describe(recipe.value),
                                    record.site, record.code))
            if bar is not None:
                bar.update()
    finally:
        if bar is not None:
            bar.close()
    last = len(order)
    for check in checks:
        check.order = order.get(check.node, last + 10 ** 9 - check.node)
    checks.sort(key=lambda check: check.order)
    _annotate(trace, checks)
    return VJPCheckReport(checks, trace.function, trace)


def _annotate(trace: Any, checks: list[NodeCheck]) -> None:
    annotations = trace.annotations
    for check in checks:
        kept = [entry for entry in annotations.get(check.node, []) if entry.get("kind") != "vjp-check"]
        if check.status != "skip":
            kept.append({"kind": "vjp-check", "status": check.status, "message": " ".join(check.message().split()),
                         "error": check.error})
        if kept:
            annotations[check.node] = kept
        else:
            annotations.pop(check.node, None)


def check_vjps(fun: Any, *args: Any, argnum: int | tuple = 0, directions: int = 2, rtol: float | None = None,
               seed: int = 0, progress: bool | None = None, max_per_line: int | None = None,
               **kwargs: Any) -> VJPCheckReport:
    """Trace ``fun(*args, **kwargs)`` and check the VJP of every node in it; the report's ``trace`` is the trace.

    The backward pass is recorded too where it runs (a VJP that raises or returns a wrong shape only stops that).
    Options as for check_trace; to pass ``fun`` a keyword of the same name, check ``gradviz.trace(...)`` instead.
    """
    from ..record.trace import trace as record

    try:
        recorded = record(fun, *args, argnum=argnum, keep_recipes=True, **kwargs)
    except Exception:
        forward_only = None
        try:
            forward_only = record(fun, *args, argnum=argnum, keep_recipes=True, backward=False, **kwargs)
        except Exception as error:  # the forward pass itself fails: that is the error to show, once
            raise error from None
        recorded = forward_only
    return check_trace(recorded, directions=directions, rtol=rtol, seed=seed, progress=progress,
                       max_per_line=max_per_line)
