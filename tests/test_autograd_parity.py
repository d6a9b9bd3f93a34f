"""A user switching from autograd finds every function autograd 1.9.1 differentiates, in both modes.

autograd keeps its reverse-mode rules in ``autograd.core.primitive_vjps``, keyed by primitive. Each primitive is
found back in autograd's public modules (autograd.numpy, autograd.scipy.special, ...) by identity; the same name in
the matching gradviz module must have a VJP and a JVP for every argument autograd differentiates. Then the gradients
of a sample of functions are compared with autograd's own, numerically.
"""

import importlib
import pkgutil

import numpy as onp
import pytest

autograd = pytest.importorskip("autograd")
from autograd.core import primitive_vjps  # noqa: E402

import gradviz  # noqa: E402
import gradviz.numpy as np  # noqa: E402
from gradviz.core.backward import has_vjp  # noqa: E402
from gradviz.core.forward import has_jvp  # noqa: E402
from gradviz.core.tracer import Primitive  # noqa: E402

# autograd's own machinery, not NumPy/SciPy functions a user calls: skipped on purpose, by (module, name).
INTERNAL = {
    # traced containers: gradviz has its own (gradviz.core.containers)
    ("autograd.builtins", "container_take"), ("autograd.builtins", "container_untake"),
    ("autograd.builtins", "sequence_extend_left"), ("autograd.builtins", "sequence_extend_right"),
    ("autograd.builtins", "make_sequence"), ("autograd.builtins", "_make_dict"),
    # vector-space arithmetic used inside derivatives
    ("autograd.core", "add"), ("autograd.core", "mut_add"), ("autograd.core", "inner_prod"),
    ("autograd.core", "covector"), ("autograd.core", "scalar_mul"), ("autograd.core", "sparse_add"),
    # helpers that autograd's own rules call (adjoints, scatter, array construction, fft padding)
    ("autograd.numpy.numpy_vjps", "dot_adjoint_0"), ("autograd.numpy.numpy_vjps", "dot_adjoint_1"),
    ("autograd.numpy.numpy_vjps", "tensordot_adjoint_0"), ("autograd.numpy.numpy_vjps", "tensordot_adjoint_1"),
    ("autograd.numpy.numpy_vjps", "untake"), ("autograd.numpy.numpy_wrapper", "array_from_args"),
    ("autograd.numpy.numpy_wrapper", "_array_from_scalar_or_array"), ("autograd.numpy.numpy_wrapper", "make_diagonal"),
    ("autograd.numpy.fft", "truncate_pad"),
    # fixed_point is a higher-order function in both libraries; its own tests live in test_misc.py
    ("autograd.misc.fixed_points", "fixed_point"),
}

# autograd names whose gradviz counterpart has another name or place.
# (By name: autograd re-exports these private names from more than one module.)
RENAMED = {
    "__getitem__": ("gradviz.numpy.wrapped", "_getitem"),  # x[i] on a traced array
    "_primitive_norm": ("gradviz.numpy.linalg", "norm"),
    "_original_where": ("gradviz.numpy", "where"),
    "_primitive_mean": ("gradviz.numpy", "mean"),
    "_primitive_var": ("gradviz.numpy", "var"),
    "_primitive_std": ("gradviz.numpy", "std"),
}

# SciPy functions are being written by the engineers of gradviz.scipy (special, stats, linalg, signal,
# integrate): these assertions are kept on purpose, and fail until the rule exists.
SCIPY_PREFIX = "autograd.scipy"


def _autograd_modules():
    modules = []
    for info in pkgutil.walk_packages(autograd.__path__, "autograd."):
        if ".test" in info.name:
            continue
        try:
            modules.append(importlib.import_module(info.name))
        except ImportError:  # an optional dependency missing: nothing of it to compare
            continue
    stats = importlib.import_module("autograd.scipy.stats")
    for name in ("beta", "chi2", "dirichlet", "gamma", "multivariate_normal", "norm", "poisson", "t"):
        modules.append(getattr(stats, name))
    return modules


def _autograd_primitives():
    """{primitive: (module, name)}, the public place where each primitive with a VJP rule is found."""
    places = {}
    for module in _autograd_modules():
        for name, obj in list(vars(module).items()):
            try:
                if not callable(obj) or obj not in primitive_vjps:
                    continue
            except TypeError:  # unhashable
                continue
            places.setdefault(obj, []).append((module.__name__, name))
    for prim in primitive_vjps:  # primitives no module exports (vector-space ops): found by their function
        if prim not in places:
            fun = getattr(prim, "fun", prim)
            places[prim] = [(fun.__module__, fun.__name__)]
    chosen = {}
    for prim, candidates in places.items():
        if any(place in INTERNAL for place in candidates):
            continue
        # the shortest public path: autograd.numpy.sin over autograd.numpy.numpy_wrapper.sin, special over stats.x
        candidates.sort(key=lambda place: (place[0].count("."), place[0].startswith("autograd.numpy.numpy_"),
                                           place[0], place[1]))
        chosen[prim] = candidates[0]
    return chosen


def _is_zero_rule(vjp) -> bool:
    """Is this autograd's stand-in for a None rule (an argument declared to have a zero gradient)?"""
    return getattr(vjp, "__qualname__", "").startswith("translate_vjp.") and vjp.__module__ == "autograd.core"


def _argnums(prim):
    """The arguments autograd differentiates: its per-argument table without the zero rules, else argument 0."""
    maker = primitive_vjps[prim]
    code = getattr(maker, "__code__", None)
    if code is not None and "vjps_dict" in code.co_freevars:
        table = maker.__closure__[code.co_freevars.index("vjps_dict")].cell_contents
        return tuple(sorted(argnum for argnum, vjp in table.items() if not _is_zero_rule(vjp)))
    return (0,)


def _cases():
    cases = []
    for prim, (module, name) in _autograd_primitives().items():
        cases.append(pytest.param(module, name, _argnums(prim), id=f"{module}.{name}"))
    return sorted(cases, key=lambda case: case.id)


CASES = _cases()


def _gradviz_function(module: str, name: str):
    target_module, target_name = RENAMED.get(name, ("gradviz" + module[len("autograd"):], name))
    if target_module.startswith("gradviz.numpy.numpy_"):
        target_module = "gradviz.numpy"
    try:
        namespace = importlib.import_module(target_module)
    except ImportError as error:
        pytest.fail(f"{target_module} can't be imported: {error}")
    fun = getattr(namespace, target_name, None)
    where = " (gradviz.scipy: being written now by its engineers)" if module.startswith(SCIPY_PREFIX) else ""
    assert fun is not None, f"{target_module}.{target_name} is missing{where} (autograd has {module}.{name})"
    return fun


def test_the_table_is_found():
    # autograd 1.9.1 differentiates ~200 primitives; the walk must find them, not silently find none
    assert len(CASES) > 150
    names = {case.values[1] for case in CASES}
    assert {"sort", "linspace", "gradient", "diff", "partition", "logsumexp", "solve"} <= names


@pytest.mark.parametrize("module,name,argnums", CASES)
def test_gradviz_has_both_rules(module, name, argnums):
    fun = _gradviz_function(module, name)
    if not isinstance(fun, Primitive):
        # a composition (e.g. gradviz.scipy.stats.norm.cdf is ndtr of the standardized x): differentiable through
        # the primitives it calls, whose rules their own tests check; it must be gradviz's, not SciPy's function
        assert callable(fun) and fun.__module__.startswith("gradviz"), f"{module}.{name}: {fun!r} is not gradviz's"
        return
    where = "gradviz.scipy (being written now by its engineers)" if module.startswith(SCIPY_PREFIX) else "gradviz"
    missing = [f"{mode} for argument {argnum}" for argnum in argnums
               for mode, has in (("VJP", has_vjp), ("JVP", has_jvp)) if not has(fun, argnum)]
    assert not missing, f"{where}: {module}.{name} is differentiated by autograd, gradviz lacks {missing}"


# --- the same gradients as autograd's own, on a sample: each loss is written once for both NumPy modules m

_SQUARE = onp.random.RandomState(3).randn(3, 3) + 3 * onp.eye(3)
SAMPLE = [
    ("sort", lambda m, v: m.sort(m.sin(v)) * onp.arange(5.0), (5,)),
    ("partition", lambda m, v: m.partition(v, 2) * onp.arange(5.0), (5,)),
    ("diff", lambda m, v: m.diff(v * v, 2), (5,)),
    ("gradient", lambda m, v: m.gradient(m.exp(v)) ** 2, (5,)),
    ("linspace", lambda m, v: m.linspace(v[0], v[1] ** 2, 7) ** 3, (5,)),
    ("full", lambda m, v: m.full((2, 3), v[2]) * onp.arange(6.0).reshape(2, 3), (5,)),
    ("cumsum", lambda m, x: m.cumsum(m.tanh(x), axis=1), (3, 4)),
    ("var_std", lambda m, x: m.var(x * x[0, 0], axis=0) + m.std(m.cos(x)), (3, 4)),
    ("prod", lambda m, x: m.prod(x, axis=1), (3, 4)),
    ("max_where", lambda m, x: m.max(m.where(x > 0, x, 2 * x), axis=0), (3, 4)),
    ("det_inv", lambda m, x: m.linalg.det(_SQUARE * x[0, 0]) * m.linalg.inv(_SQUARE * x[1, 1]), (3, 4)),
    ("solve", lambda m, x: m.linalg.solve(_SQUARE, m.sin(x)), (3, 4)),
    ("fft", lambda m, v: m.abs(m.fft.fft(m.sin(v))) ** 2, (5,)),
    ("einsum", lambda m, x: m.einsum("ij,kj->ik", x, m.exp(x)), (3, 4)),
    ("real_if_close", lambda m, x: m.real_if_close(x + 0j) ** 2, (3, 4)),
    ("nan_to_num_clip", lambda m, x: m.clip(m.nan_to_num(x), -0.5, 0.5) ** 2, (3, 4)),
]


@pytest.mark.parametrize("label,fun,shape", SAMPLE, ids=[case[0] for case in SAMPLE])
def test_gradients_match_autograd(label, fun, shape):
    import autograd.numpy as agnp
    from autograd import grad as autograd_grad

    x = onp.random.randn(*shape)
    expected = autograd_grad(lambda x: agnp.sum(fun(agnp, x)))(x)
    actual = gradviz.grad(lambda x: np.sum(fun(np, x)))(x)
    assert onp.allclose(actual, expected)
