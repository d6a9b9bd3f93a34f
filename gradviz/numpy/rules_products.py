"""Products: dot, matmul, tensordot, einsum, inner, outer, vdot, kron and cross.

Each product is linear in each argument, so its JVP is the product with the tangent in that argument's place
(``def_linear``), and its VJP for one argument is another product of ``g`` with the other arguments. Products are
bilinear, not sesquilinear: the VJP of A @ B for A is g @ B^T, with no conjugate (the complex convention of the
package); only vdot conjugates its first argument, and so do its rules. Transposes inside the rules are einsum
views, so the rules need nothing beyond this file and the elementwise and reduction tables.
"""

from __future__ import annotations

import string
from typing import Any

import numpy as _np

from ..core.backward import defvjp_argnum
from ..core.forward import def_linear
from . import wrapped as anp
from .rules_util import iscomplex, match_complex, ndim_of, shape_of, unbroadcast

_LETTERS = string.ascii_letters
_SUBLIST_LETTERS = string.ascii_uppercase + string.ascii_lowercase  # einsum's sublist ints 0..51, in order


def _transpose(x: Any, perm: list[int]) -> Any:
    """``x`` with its axes permuted, traced, as an einsum view (its rules are the einsum rules below)."""
    if list(perm) == list(range(len(perm))):
        return x
    letters = _LETTERS[:len(perm)]
    return anp.einsum(letters + "->" + "".join(letters[p] for p in perm), x)


def _swap_last(x: Any) -> Any:
    return anp.einsum("...ij->...ji", x)


def _conj(x: Any) -> Any:
    return anp.conjugate(x) if iscomplex(x) else x


def _reshape(x: Any, shape: tuple) -> Any:
    return x if shape_of(x) == tuple(shape) else anp.reshape(x, shape)


# --- einsum, the general case: the other products' rules mostly reduce to it or to tensordot

def _einsum_grad(g: Any, out: str, labels: list[str], operands: list[Any], k: int, optimize: Any = False) -> Any:
    """The VJP of an explicit einsum (no '...') for operand ``k``: einsum of ``g`` and the other operands.

    Labels of operand ``k`` that no other operand carries (summed over in the forward pass) get a vector of ones;
    a label repeated in operand ``k`` (a diagonal, 'ii') is put back on the diagonal with identity matrices; axes
    where operand ``k`` has size 1 but was broadcast are summed back.
    """
    own, shape = labels[k], shape_of(operands[k])
    sizes: dict[str, int] = {}
    for label, size in zip(own, shape):
        sizes.setdefault(label, size)
    ops, subs = [g], [out]
    ops += [x for j, x in enumerate(operands) if j != k]
    subs += [s for j, s in enumerate(labels) if j != k]
    carried: dict[str, int] = {}
    for sub, x in zip(subs, ops):
        for label, size in zip(sub, shape_of(x)):
            carried[label] = max(carried.get(label, 0), size)
    for label, size in sizes.items():
        if carried.get(label, 0) < size:
            ops.append(_np.ones(size, bool))
            subs.append(label)
    unused = iter(c for c in _LETTERS if c not in set("".join(subs) + own))
    target, seen = [], set()
    for label in own:
        if label in seen:
            fresh = next(unused)
            ops.append(_np.eye(sizes[label], dtype=bool))
            subs.append(label + fresh)
            target.append(fresh)
        else:
            seen.add(label)
            target.append(label)
    grad = anp.einsum(",".join(subs) + "->" + "".join(target), *ops, optimize=optimize)
    stretched = tuple(d for d, (n, m) in enumerate(zip(shape, shape_of(grad))) if n != m)
    if stretched:
        grad = anp.sum(grad, axis=stretched, keepdims=True)
    return match_complex(operands[k], grad)


def _einsum_explicit(args: tuple) -> tuple[list[str], str, list[int]]:
    """einsum's arguments as (labels of each operand, output labels, positions of the operands in ``args``).

    Both calling forms are read ('ij,jk->ik', a, b and a, [0, 1], b, [1, 2], [0, 2]); '...' becomes fresh letters
    and an implicit output is written out (the '...' axes, then the labels used once, in order).
    """
    if isinstance(args[0], str):
        subscripts, positions = args[0].replace(" ", ""), list(range(1, len(args)))
    else:
        positions = list(range(0, len(args) - len(args) % 2, 2))

        def letters(sublist: Any) -> str:
            return "".join("..." if s is Ellipsis else _SUBLIST_LETTERS[int(s)] for s in sublist)

        subscripts = ",".join(letters(args[p + 1]) for p in positions)
        if len(args) % 2:
            subscripts += "->" + letters(args[-1])
    inputs, arrow, out = subscripts.partition("->")
    subs = inputs.split(",")
    ndims = [ndim_of(args[p]) for p in positions]
    n_ellipsis = max([n - len(s) + 3 for s, n in zip(subs, ndims) if "..." in s], default=0)
    ellipsis = "".join([c for c in _LETTERS if c not in subscripts][:n_ellipsis])
    labels = []
    for sub, ndim in zip(subs, ndims):
        if "..." in sub:
            count = ndim - len(sub) + 3
            sub = sub.replace("...", ellipsis[n_ellipsis - count:])
        labels.append(sub)
    if arrow:
        out = out.replace("...", ellipsis)
    else:
        once = [c for c in inputs if c.isalpha() and inputs.count(c) == 1]
        out = ellipsis + "".join(sorted(once))
    return labels, out, positions


def _einsum_vjp(argnum: int, ans: Any, args: tuple, kwargs: dict) -> Any:
    labels, out, positions = _einsum_explicit(args)
    operands = [args[p] for p in positions]
    k = positions.index(argnum)
    optimize = kwargs.get("optimize", False)
    return lambda g: _einsum_grad(g, out, labels, operands, k, optimize)


defvjp_argnum(anp.einsum, _einsum_vjp)
def_linear(anp.einsum)


# --- tensordot, and dot and inner, which are tensordots over one axis

def _tensordot_axes(ndim_a: int, ndim_b: int, axes: Any) -> tuple[list[int], list[int]]:
    """The contracted axes of a and of b, non-negative, paired in order."""
    if isinstance(axes, (int, _np.integer)):
        n = int(axes)
        return list(range(ndim_a - n, ndim_a)), list(range(n))
    axes_a, axes_b = axes
    axes_a = [axes_a] if isinstance(axes_a, (int, _np.integer)) else list(axes_a)
    axes_b = [axes_b] if isinstance(axes_b, (int, _np.integer)) else list(axes_b)
    return [int(d) % ndim_a for d in axes_a], [int(d) % ndim_b for d in axes_b]


def _tensordot_grad_a(g: Any, b: Any, ndim_a: int, axes_a: list[int], axes_b: list[int]) -> Any:
    """g contracted with b over b's free axes; then a's axes put back in a's order."""
    free_a = [d for d in range(ndim_a) if d not in axes_a]
    free_b = [d for d in range(ndim_of(b)) if d not in axes_b]
    grad = anp.tensordot(g, b, axes=(list(range(len(free_a), len(free_a) + len(free_b))), free_b))
    source = free_a + [axes_a[axes_b.index(d)] for d in sorted(axes_b)]  # the axis of a behind each axis of grad
    return _transpose(grad, [source.index(d) for d in range(ndim_a)])


def _tensordot_grad_b(g: Any, a: Any, ndim_b: int, axes_a: list[int], axes_b: list[int]) -> Any:
    free_a = [d for d in range(ndim_of(a)) if d not in axes_a]
    free_b = [d for d in range(ndim_b) if d not in axes_b]
    grad = anp.tensordot(a, g, axes=(free_a, list(range(len(free_a)))))
    source = [axes_b[axes_a.index(d)] for d in sorted(axes_a)] + free_b
    return _transpose(grad, [source.index(d) for d in range(ndim_b)])


def _contraction_vjp(argnum: int, a: Any, b: Any, axes_a: list[int], axes_b: list[int]) -> Any:
    if argnum == 0:
        return lambda g: match_complex(a, _tensordot_grad_a(g, b, ndim_of(a), axes_a, axes_b))
    return lambda g: match_complex(b, _tensordot_grad_b(g, a, ndim_of(b), axes_a, axes_b))


def _scalar_product_vjp(x: Any, other: Any) -> Any:
    """The VJP for ``x`` of x * other, where one of them is a scalar (dot and inner of a scalar)."""
    if ndim_of(x) == 0:
        return lambda g: match_complex(x, anp.sum(g * other))
    return lambda g: match_complex(x, g * other)


def _tensordot_vjp(argnum: int, ans: Any, args: tuple, kwargs: dict) -> Any:
    a, b = args[0], args[1]
    axes = args[2] if len(args) > 2 else kwargs.get("axes", 2)
    axes_a, axes_b = _tensordot_axes(ndim_of(a), ndim_of(b), axes)
    return _contraction_vjp(argnum, a, b, axes_a, axes_b)


def _dot_vjp(argnum: int, ans: Any, args: tuple, kwargs: dict) -> Any:
    """dot contracts the last axis of a with the second-to-last of b (the only one if b is 1-D)."""
    a, b = args[0], args[1]
    if ndim_of(a) == 0 or ndim_of(b) == 0:
        return _scalar_product_vjp(a, b) if argnum == 0 else _scalar_product_vjp(b, a)
    if ndim_of(a) == 2 and ndim_of(b) == 2:  # matrices: BLAS on transposed views, with no copies
        if argnum == 0:
            return lambda g: match_complex(a, anp.dot(g, anp.transpose(b)))
        return lambda g: match_complex(b, anp.dot(anp.transpose(a), g))
    return _contraction_vjp(argnum, a, b, [ndim_of(a) - 1], [max(ndim_of(b) - 2, 0)])


def _inner_vjp(argnum: int, ans: Any, args: tuple, kwargs: dict) -> Any:
    a, b = args[0], args[1]
    if ndim_of(a) == 0 or ndim_of(b) == 0:
        return _scalar_product_vjp(a, b) if argnum == 0 else _scalar_product_vjp(b, a)
    return _contraction_vjp(argnum, a, b, [ndim_of(a) - 1], [ndim_of(b) - 1])


for _fun, _vjp in ((anp.tensordot, _tensordot_vjp), (anp.dot, _dot_vjp), (anp.inner, _inner_vjp)):
    defvjp_argnum(_fun, _vjp)
    def_linear(_fun)


# --- matmul: 1-D arguments are promoted, and the batch axes broadcast

def _default_axes_only(name: str, kwargs: dict) -> None:
    if kwargs.get("axes") is not None or kwargs.get("axis") is not None:
        raise NotImplementedError(f"numpy.{name}: gradviz differentiates it on its default axes only, not with "
                                  "axes= or axis=; move the axes into place first (np.moveaxis).")


def _matmul_vjp(argnum: int, ans: Any, args: tuple, kwargs: dict) -> Any:
    _default_axes_only("matmul", kwargs)
    a, b = args[0], args[1]
    vector_a, vector_b = ndim_of(a) == 1, ndim_of(b) == 1
    if vector_a and vector_b:
        return lambda g: match_complex(args[argnum], g * args[1 - argnum])
    if vector_a:  # (k) @ (..., k, m) -> (..., m)
        grads = (lambda g: anp.einsum("...m,...km->...k", g, b), lambda g: anp.einsum("k,...m->...km", a, g))
    elif vector_b:  # (..., n, k) @ (k) -> (..., n)
        grads = (lambda g: anp.einsum("...n,k->...nk", g, b), lambda g: anp.einsum("...n,...nk->...k", g, a))
    else:
        grads = (lambda g: anp.matmul(g, _swap_last(b)), lambda g: anp.matmul(_swap_last(a), g))
    grad, x = grads[argnum], args[argnum]
    return lambda g: unbroadcast(x, grad(g))


defvjp_argnum(anp.matmul, _matmul_vjp)
def_linear(anp.matmul)


# --- NumPy 2's vector ufuncs: einsums, with the first argument conjugated in vecdot and vecmat

_VECTOR_UFUNCS = {"vecdot": ("...i,...i->...", True), "matvec": ("...ij,...j->...i", False),
                  "vecmat": ("...i,...ij->...j", True)}


def _vector_ufunc_vjp(name: str) -> Any:
    subscripts, conjugated = _VECTOR_UFUNCS[name]

    def vjp_maker(argnum: int, ans: Any, args: tuple, kwargs: dict) -> Any:
        _default_axes_only(name, kwargs)
        labels, out, _ = _einsum_explicit((subscripts, args[0], args[1]))
        if argnum == 0:  # conjugated: antiholomorphic in its first argument, so the transpose is conjugated too
            grad = lambda g: _einsum_grad(g, out, labels, list(args[:2]), 0)
            return (lambda g: _conj(grad(g))) if conjugated else grad
        operands = [_conj(args[0]) if conjugated else args[0], args[1]]
        return lambda g: _einsum_grad(g, out, labels, operands, 1)

    return vjp_maker


for _name in _VECTOR_UFUNCS:
    if hasattr(anp, _name):  # NumPy >= 2.2 (vecdot: 2.0)
        defvjp_argnum(getattr(anp, _name), _vector_ufunc_vjp(_name))
        def_linear(getattr(anp, _name))


# --- outer, vdot, kron: flattening and interleaving around a simple product

def _outer_vjp(argnum: int, ans: Any, args: tuple, kwargs: dict) -> Any:
    a, b = args[0], args[1]
    if argnum == 0:
        return lambda g: match_complex(a, _reshape(anp.dot(g, _reshape(b, (-1,))), shape_of(a)))
    return lambda g: match_complex(b, _reshape(anp.dot(_reshape(a, (-1,)), g), shape_of(b)))


defvjp_argnum(anp.outer, _outer_vjp)
def_linear(anp.outer)


def _vdot_vjp(argnum: int, ans: Any, args: tuple, kwargs: dict) -> Any:
    """vdot(a, b) = sum(conj(a) * b): holomorphic in b, antiholomorphic in a (so a's VJP is conjugated)."""
    a, b = args[0], args[1]
    if argnum == 0:
        return lambda g: match_complex(a, _conj(g * _reshape(b, shape_of(a))))
    return lambda g: match_complex(b, g * _reshape(_conj(a), shape_of(b)))


defvjp_argnum(anp.vdot, _vdot_vjp)
def_linear(anp.vdot)


def _kron_vjp(argnum: int, ans: Any, args: tuple, kwargs: dict) -> Any:
    """kron(a, b)[i*nb + k] = a[i] b[k] in every axis: g split into (i, k) pairs, contracted with the other."""
    a, b = args[0], args[1]
    ndim = max(ndim_of(a), ndim_of(b))
    shape_a = (1,) * (ndim - ndim_of(a)) + shape_of(a)
    shape_b = (1,) * (ndim - ndim_of(b)) + shape_of(b)
    split = tuple(n for pair in zip(shape_a, shape_b) for n in pair)
    letters_a, letters_b = _LETTERS[:ndim], _LETTERS[ndim:2 * ndim]
    letters_g = "".join(i + k for i, k in zip(letters_a, letters_b))
    if argnum == 0:
        return lambda g: match_complex(a, _reshape(anp.einsum(
            f"{letters_g},{letters_b}->{letters_a}", _reshape(g, split), _reshape(b, shape_b)), shape_of(a)))
    return lambda g: match_complex(b, _reshape(anp.einsum(
        f"{letters_g},{letters_a}->{letters_b}", _reshape(g, split), _reshape(a, shape_a)), shape_of(b)))


defvjp_argnum(anp.kron, _kron_vjp)
def_linear(anp.kron)


# --- cross: an einsum with the Levi-Civita symbol

_LEVI_CIVITA = _np.zeros((3, 3, 3), _np.int8)
for _i, _j, _k in ((0, 1, 2), (1, 2, 0), (2, 0, 1)):
    _LEVI_CIVITA[_i, _j, _k], _LEVI_CIVITA[_i, _k, _j] = 1, -1


def _cross_vjp(argnum: int, ans: Any, args: tuple, kwargs: dict) -> Any:
    """cross(a, b)_i = eps_ijk a_j b_k, with 2-vectors read as 3-vectors of zero z (and only z out if both are)."""
    a, b = args[0], args[1]
    options = {"axisa": -1, "axisb": -1, "axisc": -1, "axis": None}
    options.update(zip(options, args[2:]), **kwargs)
    axisa, axisb, axisc = (options["axisa"], options["axisb"], options["axisc"]) if options["axis"] is None \
        else (options["axis"],) * 3
    ndim_a, ndim_b = ndim_of(a), ndim_of(b)
    axisa, axisb = axisa % ndim_a, axisb % ndim_b
    size_a, size_b = shape_of(a)[axisa], shape_of(b)[axisb]
    n_batch = max(ndim_a, ndim_b) - 1
    batch = _LETTERS[:n_batch]
    i, j, k = _LETTERS[n_batch:n_batch + 3]
    sub_a = batch[n_batch - ndim_a + 1:]
    sub_a = sub_a[:axisa] + j + sub_a[axisa:]
    sub_b = batch[n_batch - ndim_b + 1:]
    sub_b = sub_b[:axisb] + k + sub_b[axisb:]
    if size_a == 2 and size_b == 2:
        symbol, sub_symbol, out = _LEVI_CIVITA[2, :2, :2], j + k, batch
    else:
        axisc = axisc % (n_batch + 1)
        symbol, sub_symbol, out = _LEVI_CIVITA[:, :size_a, :size_b], i + j + k, batch[:axisc] + i + batch[axisc:]
    labels, operands = [sub_a, sub_b, sub_symbol], [a, b, symbol]
    return lambda g: _einsum_grad(g, out, labels, operands, argnum)


defvjp_argnum(anp.cross, _cross_vjp)
def_linear(anp.cross)
