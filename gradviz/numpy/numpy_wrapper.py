"""Every public NumPy function as a gradviz primitive.

Each function, ufunc and dispatcher of a NumPy namespace becomes a primitive. Functions whose output is piecewise
constant or an index (comparisons, argmax, floor, unique, ...) become *no-trace* primitives: their output is a
constant. The rest are traced, and raise a clear NotImplementedError on a traced value until a rule is defined, so
a missing rule never turns into a silently constant (wrong) gradient. Types, constants and submodules pass through.
"""

from __future__ import annotations

import types
from typing import Any

import numpy as _np

from ..core.tracer import NoTracePrimitive, Primitive, box_types

__all__ = ["wrap_namespace", "NONDIFFERENTIABLE"]

# The output is a constant: an index, a boolean, a count, a shape, an integer-valued step function, new data that
# does not depend on the values passed in, or a side effect (printing, saving).
NONDIFFERENTIABLE = frozenset("""
    equal not_equal greater greater_equal less less_equal logical_and logical_or logical_not logical_xor
    isfinite isinf isnan isnat isneginf isposinf iscomplex isreal isrealobj iscomplexobj isscalar signbit
    array_equal array_equiv allclose isclose all any isin in1d
    floor ceil trunc fix rint round around sign heaviside nextafter spacing floor_divide
    bitwise_and bitwise_or bitwise_xor bitwise_not bitwise_invert bitwise_left_shift bitwise_right_shift
    bitwise_count invert left_shift right_shift gcd lcm packbits unpackbits
    argmax argmin argsort argpartition argwhere nonzero flatnonzero searchsorted digitize lexsort
    count_nonzero histogram histogram2d histogramdd histogram_bin_edges
    unique unique_all unique_counts unique_inverse unique_values intersect1d union1d setdiff1d setxor1d
    zeros ones empty zeros_like ones_like empty_like arange eye identity tri indices diag_indices
    diag_indices_from tril_indices tril_indices_from triu_indices triu_indices_from mask_indices
    fromfunction frombuffer fromfile fromiter fromstring fromregex loadtxt genfromtxt load
    shape ndim size result_type can_cast min_scalar_type promote_types issubdtype isdtype common_type
    may_share_memory shares_memory iterable ravel_multi_index unravel_index binary_repr base_repr
    broadcast_shapes typename mintypecode isfortran
    array2string array_repr array_str format_float_positional format_float_scientific
    save savez savez_compressed savetxt info show_config show_runtime get_include
    printoptions set_printoptions get_printoptions seterr geterr seterrcall geterrcall setbufsize getbufsize
    bartlett blackman hamming hanning kaiser
    busday_count busday_offset is_busday datetime_as_string datetime_data
    frexp modf divmod fftfreq rfftfreq matrix_rank
""".split())


def _is_function(obj: Any) -> bool:
    return callable(obj) and not isinstance(obj, (type, types.ModuleType))


_KEYWORD_ONLY = 1 << 30  # an out_position no call reaches: out= is checked among the keywords only


def _out_position(fun: Any) -> int:
    """Where ``fun`` takes ``out`` positionally (ufuncs: after their inputs); else out= is keyword-only."""
    if isinstance(fun, _np.ufunc):
        return fun.nin
    code = getattr(getattr(fun, "_implementation", fun), "__code__", None)
    positional = code.co_varnames[:code.co_argcount] if code is not None else ()
    return positional.index("out") if "out" in positional else _KEYWORD_ONLY


# Functions whose list arguments are sequences of arrays, not one array: packing them would change the meaning.
_TAKES_SEQUENCES = frozenset("""
    block piecewise select choose concatenate concat stack hstack vstack dstack column_stack row_stack
    multi_dot lexsort savez savez_compressed einsum einsum_path broadcast_arrays meshgrid ix_ unstack
""".split())


def _holds_box(value: Any) -> bool:
    if type(value) in box_types:
        return True
    return isinstance(value, (list, tuple)) and any(_holds_box(item) for item in value)


def _pack_arguments(args: tuple) -> tuple | None:
    """``args`` with each list or tuple that holds traced values made one traced array (np.sum([a, b])), or
    None if there is no such argument. Tried only after NumPy refused the arguments as they were."""
    if not any(isinstance(arg, (list, tuple)) and _holds_box(arg) for arg in args):
        return None
    from .wrapped import array

    return tuple(array(arg) if isinstance(arg, (list, tuple)) and _holds_box(arg) else arg for arg in args)


def wrap_namespace(source: dict, target: dict, module_name: str, cache: dict[int, Primitive]) -> None:
    """Put a primitive for each public function of ``source`` (a module's vars) into ``target``.

    ``cache`` maps id(function) to its primitive, so aliases (``abs`` and ``absolute``) share one primitive and
    one set of rules.
    """
    for name, obj in source.items():
        if name.startswith("_") or name in target:
            continue
        if isinstance(obj, types.ModuleType):
            continue
        if not _is_function(obj):
            target[name] = obj
            continue
        wrapped = cache.get(id(obj))
        if wrapped is None:
            canonical = getattr(obj, "__name__", name)
            qualname = f"{module_name}.{canonical}"
            wrapped = NoTracePrimitive(obj, qualname) if canonical in NONDIFFERENTIABLE or name in \
                NONDIFFERENTIABLE else Primitive(obj, qualname)
            wrapped.out_position = _out_position(obj)
            if canonical not in _TAKES_SEQUENCES:
                wrapped.pack_arguments = _pack_arguments
            cache[id(obj)] = wrapped
        target[name] = wrapped


_primitive_cache: dict[int, Primitive] = {}
_public_versions: dict[int, Any] = {}  # id(NumPy function) -> the gradviz.numpy function a user would call


# Constant-valued functions whose output still depends continuously on one argument: traced values there are refused.
_WEIGHTS = {"histogram": ("weights", 4), "histogram2d": ("weights", 5), "histogramdd": ("weights", 4)}


def wrap_numpy(source_module: Any, target: dict, module_name: str) -> None:
    wrap_namespace(vars(source_module), target, module_name, _primitive_cache)
    for name, weights in _WEIGHTS.items():
        if isinstance(target.get(name), NoTracePrimitive):
            target[name].weights = weights


def publish(source_module: Any, namespace: dict) -> None:
    """Record ``namespace``'s functions as the gradviz versions of ``source_module``'s, for plain NumPy calls."""
    for name, fun in namespace.items():
        original = getattr(source_module, name, None)
        if original is not None and _is_function(original) and _is_function(fun):
            _public_versions[id(original)] = fun


def gradviz_version(fun: Any) -> Any:
    """The gradviz.numpy function to call in place of the NumPy function ``fun``, or None."""
    return _public_versions.get(id(fun))
