"""The gradviz.numpy namespace: every NumPy name is there, as a primitive, a gradviz function or NumPy's own object.

Also: what non-differentiable functions do to traced values, the error for a function without a rule, the random
module passing through, np.array of traced values, and a guard on which functions have rules.
"""

from __future__ import annotations

import types
import warnings

import numpy as onp
import pytest

import gradviz.numpy as np
import gradviz.numpy.wrapped as wrapped
from gradviz import deriv, elementwise_grad, grad, make_jvp
from gradviz.core.backward import has_vjp
from gradviz.core.forward import has_jvp
from gradviz.core.tracer import NoTracePrimitive, Primitive, isbox
from gradviz.extend import defvjp, primitive
from gradviz.test_util import check_grads

NAMESPACES = [(onp, np), (onp.linalg, np.linalg), (onp.fft, np.fft)]
NAMESPACE_IDS = ["numpy", "numpy.linalg", "numpy.fft"]


def public(module):
    """(name, object) for each public attribute of ``module`` except submodules."""
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecated aliases warn on access
        for name in dir(module):
            if name.startswith("_"):
                continue
            try:
                obj = getattr(module, name)
            except AttributeError:  # listed by __dir__ but removed
                continue
            if not isinstance(obj, types.ModuleType):
                out.append((name, obj))
    return out


def is_function(obj):
    return callable(obj) and not isinstance(obj, type)


def is_gradviz_function(obj):
    return isinstance(obj, Primitive) or getattr(obj, "__module__", "").startswith("gradviz.")


@pytest.mark.parametrize("source, target", NAMESPACES, ids=NAMESPACE_IDS)
def test_every_public_function_is_wrapped(source, target):
    functions = [(name, obj) for name, obj in public(source) if is_function(obj)]
    assert len(functions) > (200 if source is onp else 10)
    missing = [name for name, _ in functions if not hasattr(target, name)]
    assert not missing
    unwrapped = [name for name, _ in functions if not is_gradviz_function(getattr(target, name))]
    assert not unwrapped


@pytest.mark.parametrize("source, target", NAMESPACES, ids=NAMESPACE_IDS)
def test_primitives_wrap_the_numpy_function_and_are_named_after_it(source, target):
    for name, obj in public(source):
        wrapper = getattr(target, name)
        if type(wrapper) in (Primitive, NoTracePrimitive) and is_function(obj):
            assert wrapper.__wrapped__ is obj, name
            assert wrapper.qualname == f"{source.__name__}.{getattr(obj, '__name__', name)}", name


@pytest.mark.parametrize("source, target", NAMESPACES, ids=NAMESPACE_IDS)
def test_aliases_share_one_primitive(source, target):
    by_id = {}
    for name, obj in public(source):
        if is_function(obj):
            by_id.setdefault(id(obj), []).append(name)
    for names in by_id.values():
        assert len({id(getattr(target, name)) for name in names}) == 1, names


def test_named_aliases():
    assert np.abs is np.absolute
    assert np.conj is np.conjugate
    assert np.divide is np.true_divide
    assert np.pow is np.power
    assert np.mod is np.remainder
    assert np.asin is np.arcsin and np.atan2 is np.arctan2


@pytest.mark.parametrize("source, target", NAMESPACES, ids=NAMESPACE_IDS)
def test_types_and_constants_pass_through(source, target):
    traced_index_tricks = {"r_", "c_"}  # gradviz's own: np.r_[x, y] with traced arrays is traced
    for name, obj in public(source):
        if not is_function(obj) and name not in traced_index_tricks:
            assert getattr(target, name) is obj, name


def test_named_types_and_constants():
    assert np.pi is onp.pi and np.e is onp.e and np.inf is onp.inf
    assert onp.isnan(np.nan)
    assert np.newaxis is None
    assert np.float64 is onp.float64 and np.float32 is onp.float32 and np.int64 is onp.int64
    assert np.ndarray is onp.ndarray and np.dtype is onp.dtype
    assert np.linalg.LinAlgError is onp.linalg.LinAlgError
    x = np.ones((2, 3))
    assert x[np.newaxis].shape == (1, 2, 3)
    assert isinstance(x, np.ndarray) and x.dtype == np.float64


# --- non-differentiable functions: constants, even on traced values

def leaves(value):
    if isinstance(value, (tuple, list)):
        return [leaf for item in value for leaf in leaves(item)]
    return [value]


X = onp.array([[0.4, -1.6, 2.5], [onp.nan, 3.1, -0.4]])
NONDIFFERENTIABLE = [
    ("greater", lambda x: np.greater(x, 0.0)), ("less", lambda x: np.less(x, 1.0)),
    ("equal", lambda x: np.equal(x, x)), ("not_equal", lambda x: np.not_equal(x, 0.4)),
    ("operator >", lambda x: x > 0.0), ("operator <=", lambda x: x <= 0.4), ("operator ==", lambda x: x == 2.5),
    ("operator !=", lambda x: x != 2.5), ("argmax", lambda x: np.argmax(np.nan_to_num(x))),
    ("argmin", lambda x: np.argmin(np.nan_to_num(x), axis=1)), ("floor", np.floor), ("ceil", np.ceil),
    ("sign", np.sign), ("round", np.round), ("around", lambda x: np.round(x, 1)), ("rint", np.rint),
    ("trunc", np.trunc), ("argsort", np.argsort), ("unique", np.unique),
    ("unique counts", lambda x: np.unique(x, return_counts=True)), ("nonzero", np.nonzero),
    ("isnan", np.isnan), ("isfinite", np.isfinite), ("isinf", np.isinf), ("count_nonzero", np.count_nonzero),
    ("any", np.any), ("all", lambda x: np.all(x > -2)), ("floor_divide", lambda x: np.floor_divide(x, 2.0)),
    ("operator //", lambda x: x // 2.0), ("searchsorted", lambda x: np.searchsorted(onp.arange(3.0), x)),
    ("zeros_like", np.zeros_like), ("ones_like", np.ones_like), ("shape", np.shape), ("ndim", np.ndim),
    ("argmax method", lambda x: x.argmax()), ("argsort method", lambda x: x.argsort(axis=0)),
    ("nonzero method", lambda x: x.nonzero()), ("round method", lambda x: x.round()),
]


@pytest.mark.parametrize("name, fun", NONDIFFERENTIABLE, ids=[row[0] for row in NONDIFFERENTIABLE])
def test_nondifferentiable_results_are_constants(name, fun):
    expected = fun(X)
    seen = []

    def f(x):
        out = fun(x)
        seen.append(out)
        return np.sum(np.nan_to_num(x))  # something traced, so that the gradient is that of this alone

    onp.testing.assert_array_equal(grad(f)(X), onp.isfinite(X))
    onp.testing.assert_array_equal(make_jvp(f)(X)(onp.ones_like(X))[1], onp.sum(onp.isfinite(X)))
    for out in seen:
        assert not any(isbox(leaf) for leaf in leaves(out))
        for leaf, expected_leaf in zip(leaves(out), leaves(expected)):
            onp.testing.assert_array_equal(leaf, expected_leaf)


def test_gradient_through_nondifferentiable_functions_is_zero():
    x = onp.array([0.3, 1.7, -2.2])
    # piecewise-constant parts contribute nothing; the rest of the expression keeps its gradient
    onp.testing.assert_array_equal(elementwise_grad(lambda x_: x_ * np.floor(x_) + np.sign(x_))(x), onp.floor(x))
    onp.testing.assert_array_equal(elementwise_grad(lambda x_: x_ * (x_ > 0))(x), x > 0)
    onp.testing.assert_array_equal(deriv(lambda x_: x_ * np.round(x_))(x), onp.round(x))
    assert grad(lambda x_: np.sum(x_[np.argsort(x_)] * onp.arange(3.0)))(x).shape == (3,)
    with pytest.warns(UserWarning, match="does not depend on its input"):
        onp.testing.assert_array_equal(grad(lambda x_: np.sum(np.floor(x_)) * 1.0)(x), onp.zeros(3))


# --- functions without a rule raise, naming themselves and the argument

SQUARE = onp.array([[2.0, 0.3, 0.1], [0.3, 1.5, 0.2], [0.1, 0.2, 1.0]])
DO_NOT_CALL = {"test"}  # numpy.test runs NumPy's own test suite


def without_rule(has_rule, count=5):
    """The first ``count`` wrapped primitives without a rule for argument 0 that map a 3 x 3 matrix to an array."""
    found = []
    for _, target in NAMESPACES:
        for name in sorted(set(dir(target))):
            fun = getattr(target, name)
            if type(fun) is not Primitive or name in DO_NOT_CALL or has_rule(fun, 0):
                continue
            try:
                with warnings.catch_warnings(), onp.errstate(all="ignore"):
                    warnings.simplefilter("ignore")
                    out = fun.fun(SQUARE.copy())
            except Exception:  # needs more arguments, or another kind of input
                continue
            if type(out) is onp.ndarray:
                found.append(fun)
            if len(found) == count:
                return found
    return found


@pytest.mark.parametrize("mode", ["rev", "fwd"])
def test_missing_rule_names_function_and_argument(mode):
    funs = without_rule(has_vjp if mode == "rev" else has_jvp)
    assert funs, "every wrapped function has a rule: pick another example of a missing rule"
    for fun in funs:
        assert fun.qualname.startswith("numpy.")
        with pytest.raises(NotImplementedError) as info:
            if mode == "rev":
                grad(lambda x: np.sum(fun(x)))(SQUARE)
            else:
                make_jvp(lambda x: fun(x))(SQUARE)(onp.ones_like(SQUARE))
        message = str(info.value)
        assert fun.qualname in message and "argument 0" in message, message
        assert "float64[3, 3]" in message, message


def test_missing_rule_for_a_later_argument():
    """A primitive with a rule for argument 0 only names argument 1 when that one is traced."""
    @primitive
    def scale(x, s):
        return x * s

    defvjp(scale, lambda ans, x, s: lambda g: g * s)
    with pytest.raises(NotImplementedError, match=r"scale has no VJP \(reverse-mode rule\) for argument 1"):
        grad(lambda s: scale(1.0, s))(2.0)


# --- numpy.random passes through

def test_random_passes_through():
    assert np.random.randn is onp.random.randn
    assert np.random.default_rng is onp.random.default_rng
    np.random.seed(3)
    a = np.random.randn(2, 3)
    onp.random.seed(3)
    onp.testing.assert_array_equal(a, onp.random.randn(2, 3))
    rng = np.random.default_rng(0)
    assert isinstance(rng, onp.random.Generator)
    assert rng.normal(size=4).shape == (4,)
    assert set(onp.random.__all__) <= set(dir(np.random))


# --- np.array / np.asarray of traced values

def test_array_of_boxes_is_traced():
    def f(x):
        return np.sum(np.array([x, 2.0 * x, x * x]) ** 2)

    x = 0.7
    onp.testing.assert_allclose(grad(f)(x), 2 * x + 8 * x + 4 * x ** 3, rtol=1e-12)
    check_grads(f)(x)


def test_array_of_nested_lists_with_boxes_is_traced():
    made = []

    def f(x):
        m = np.array([[x[0], 1.0], [2.0, x[0] * x[1]]])
        made.append(m)
        return np.sum(m * onp.array([[1.0, 2.0], [3.0, 4.0]]))

    x = onp.array([0.5, -1.5])
    onp.testing.assert_allclose(grad(f)(x), [1.0 + 4 * x[1], 4 * x[0]], rtol=1e-12)
    assert made[0].shape == (2, 2) and isbox(made[0])
    check_grads(f)(x)


def test_array_of_arrays_with_boxes_and_dtype():
    def f(x):
        return np.array([x, onp.ones(3), -x], dtype=float)

    x = onp.array([1.0, 2.0, 3.0])
    check_grads(f)(x)
    onp.testing.assert_allclose(elementwise_grad(lambda x_: f(x_)[0] + f(x_)[2] * 2)(x), -onp.ones(3))


def test_asarray_returns_the_box():
    seen = []

    def f(x):
        y = np.asarray(x)
        seen.append(y is x)
        return np.sum(np.asarray(y) * 3.0)

    onp.testing.assert_array_equal(grad(f)(onp.ones(3)), onp.full(3, 3.0))
    assert seen == [True]
    assert isinstance(np.asarray([1.0, 2.0]), onp.ndarray)


# --- coverage guard

def classify():
    """Each distinct wrapped callable of the three namespaces, as 'notrace', 'vjp' or 'no vjp'."""
    kinds = {}
    for _, target in NAMESPACES:
        for name in dir(target):
            fun = getattr(target, name)
            if isinstance(fun, NoTracePrimitive):
                kinds[fun] = "notrace"
            elif isinstance(fun, Primitive):
                kinds[fun] = "vjp" if has_vjp(fun, 0) else "no vjp"
    return kinds


def test_coverage_counts():
    kinds = list(classify().values())
    counts = {kind: kinds.count(kind) for kind in ("notrace", "vjp", "no vjp")}
    print("gradviz.numpy coverage:", counts)
    assert sum(counts.values()) == len(kinds)
    assert counts["notrace"] >= 100  # comparisons, rounding, indices, constructors, ...
    assert counts["vjp"] >= 60  # at least the elementwise table


# (name in gradviz.numpy, or a primitive, and the argnum whose rules are checked)
CORE = [
    *[(name, 0) for name in """
        exp exp2 expm1 log log2 log10 log1p sin cos tan arcsin arccos arctan sinh cosh tanh arcsinh arccosh arctanh
        deg2rad rad2deg degrees radians sinc sqrt cbrt square reciprocal negative positive conjugate real imag
        absolute fabs angle nan_to_num add subtract multiply true_divide power float_power maximum minimum fmax fmin
        logaddexp logaddexp2 arctan2 hypot remainder fmod copysign ldexp clip
        sum mean prod max min std var reshape transpose dot matmul tensordot outer take
    """.split()],
    ("where", 1), ("concatenate_args", 1), ("stack_args", 1), ("einsum", 1),
]


def core_without_rules():
    missing = []
    for name, argnum in CORE:
        fun = getattr(np, name, None) or getattr(wrapped, name)
        if not (has_vjp(fun, argnum) and has_jvp(fun, argnum)):
            missing.append(name)
    if not (has_vjp(wrapped._getitem, 0) and has_jvp(wrapped._getitem, 0)):
        missing.append("_getitem")
    return missing


def test_core_functions_have_vjp_and_jvp():
    assert core_without_rules() == []
