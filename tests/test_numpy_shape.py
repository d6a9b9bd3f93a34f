"""Shape and layout functions: finite-difference checks in both modes to second order, and their transposes."""

import numpy as onp
import pytest

import gradviz.numpy as np
from gradviz import grad, make_jvp, make_vjp
from gradviz.test_util import check_grads


def _randn(*shape, dtype=float):
    return onp.asarray(onp.random.randn(*shape), dtype)


# (name, function, input shape): each output is compared with finite differences, forward and reverse, order 2
CASES = [
    ("reshape", lambda x: np.reshape(x, (4, 3)), (3, 4)),
    ("reshape_F", lambda x: np.reshape(x, (2, -1), order="F"), (3, 4)),
    ("reshape_A", lambda x: np.reshape(x.T, (6, 2), order="A"), (3, 4)),
    ("reshape_0d", lambda x: np.reshape(x, (1, 1)), ()),
    ("method_reshape", lambda x: x.reshape(2, 6), (3, 4)),
    ("ravel", np.ravel, (2, 3, 2)),
    ("ravel_F", lambda x: np.ravel(x, order="F"), (3, 4)),
    ("ravel_K", lambda x: np.ravel(x.T, order="K"), (3, 4)),
    ("squeeze", np.squeeze, (1, 3, 1)),
    ("squeeze_axis", lambda x: np.squeeze(x, axis=-1), (1, 3, 1)),
    ("expand_dims", lambda x: np.expand_dims(x, 1), (3, 2)),
    ("expand_dims_tuple", lambda x: np.expand_dims(x, (0, -1)), (3,)),
    ("expand_dims_0d", lambda x: np.expand_dims(x, 0), ()),
    ("transpose", np.transpose, (2, 3, 4)),
    ("transpose_axes", lambda x: np.transpose(x, (1, -1, 0)), (2, 3, 4)),
    ("permute_dims", lambda x: np.permute_dims(x, (2, 0, 1)), (2, 3, 4)),
    ("T", lambda x: x.T, (3, 4)),
    ("method_transpose", lambda x: x.transpose(1, 0, 2), (2, 3, 4)),
    ("matrix_transpose", np.matrix_transpose, (2, 3, 4)),
    ("moveaxis", lambda x: np.moveaxis(x, 0, -1), (2, 3, 4)),
    ("moveaxis_tuple", lambda x: np.moveaxis(x, (0, 1), (2, 0)), (2, 3, 4)),
    ("swapaxes", lambda x: np.swapaxes(x, 0, 2), (2, 3, 4)),
    ("rollaxis", lambda x: np.rollaxis(x, 2), (2, 3, 4)),
    ("rollaxis_start", lambda x: np.rollaxis(x, 0, 3), (2, 3, 4)),
    ("rollaxis_neg", lambda x: np.rollaxis(x, -1, 1), (2, 3, 4)),
    ("flip", np.flip, (3, 4)),
    ("flip_axis", lambda x: np.flip(x, -1), (3, 4)),
    ("flip_tuple", lambda x: np.flip(x, (0, 2)), (2, 3, 4)),
    ("fliplr", np.fliplr, (3, 4)),
    ("flipud", np.flipud, (3,)),
    ("roll", lambda x: np.roll(x, 2), (3, 4)),
    ("roll_axis", lambda x: np.roll(x, -1, axis=1), (3, 4)),
    ("roll_tuple", lambda x: np.roll(x, (1, 2), axis=(0, 1)), (3, 4)),
    ("rot90", np.rot90, (3, 4)),
    ("rot90_k", lambda x: np.rot90(x, 3, axes=(2, 0)), (2, 3, 4)),
    ("tile", lambda x: np.tile(x, 2), (3,)),
    ("tile_more_dims", lambda x: np.tile(x, (2, 1, 2)), (2, 3)),
    ("tile_0d", lambda x: np.tile(x, 3), ()),
    ("repeat", lambda x: np.repeat(x, 2), (2, 3)),
    ("repeat_axis", lambda x: np.repeat(x, 3, axis=-1), (2, 3)),
    ("repeat_each", lambda x: np.repeat(x, [2, 0, 1], axis=1), (2, 3)),
    ("method_repeat", lambda x: x.repeat(2, axis=0), (2, 3)),
    ("pad", lambda x: np.pad(x, 2), (3,)),
    ("pad_widths", lambda x: np.pad(x, ((1, 0), (2, 3)), constant_values=4.0), (2, 3)),
    ("pad_edge", lambda x: np.pad(x, 2, mode="edge"), (2, 3)),
    ("pad_reflect", lambda x: np.pad(x, ((2, 1), (1, 2)), "reflect"), (3, 3)),
    ("pad_symmetric", lambda x: np.pad(x, 3, mode="symmetric"), (2, 2)),
    ("pad_wrap", lambda x: np.pad(x, (1, 4), mode="wrap"), (3,)),
    ("diag_1d", np.diag, (3,)),
    ("diag_1d_k", lambda x: np.diag(x, -2), (3,)),
    ("diag_2d", np.diag, (3, 4)),
    ("diag_2d_k", lambda x: np.diag(x, k=1), (4, 3)),
    ("diagonal", np.diagonal, (3, 4)),
    ("diagonal_axes", lambda x: np.diagonal(x, 1, 2, 0), (3, 2, 4)),
    ("method_diagonal", lambda x: x.diagonal(-1), (3, 3)),
    ("tril", np.tril, (3, 4)),
    ("tril_k", lambda x: np.tril(x, -1), (2, 3, 3)),
    ("triu", lambda x: np.triu(x, 1), (4, 3)),
    ("triu_1d", np.triu, (3,)),
    ("copy", np.copy, (3, 2)),
    ("method_copy", lambda x: x.copy(), ()),
    ("atleast_1d", np.atleast_1d, ()),
    ("atleast_2d", np.atleast_2d, (3,)),
    ("atleast_3d", np.atleast_3d, (3, 2)),
    ("append", lambda x: np.append(x, onp.ones(2)), (2, 3)),
    ("append_self", lambda x: np.append(x, 2 * x, axis=-1), (2, 3)),
    ("append_scalar", lambda x: np.append(x[0], x), (3,)),
    ("unstack", lambda x: np.unstack(x, axis=1), (2, 3)),
    ("split", lambda x: np.split(x, 3), (6, 2)),
    ("split_indices", lambda x: np.split(x, [1, 3], axis=-1), (2, 5)),
    ("array_split", lambda x: np.array_split(x, 3, 1), (2, 5)),
    ("hsplit", lambda x: np.hsplit(x, 2), (2, 4)),
    ("hsplit_1d", lambda x: np.hsplit(x, [1]), (3,)),
    ("vsplit", lambda x: np.vsplit(x, [1]), (3, 2)),
    ("dsplit", lambda x: np.dsplit(x, 2), (2, 1, 4)),
    ("concatenate", lambda x: np.concatenate([x, 3 * x, onp.ones((1, 3))]), (2, 3)),
    ("concatenate_axis", lambda x: np.concatenate([np.sin(x), x], axis=-1), (2, 3)),
    ("concatenate_none", lambda x: np.concatenate([x, x[0]], axis=None), (2, 3)),
    ("stack", lambda x: np.stack([x, onp.ones(3), 2 * x], axis=1), (3,)),
    ("stack_neg", lambda x: np.stack([x, x ** 2], axis=-1), (2, 3)),
    ("hstack", lambda x: np.hstack([x, x]), (2, 3)),
    ("vstack", lambda x: np.vstack([x, x[0]]), (2, 3)),
    ("dstack", lambda x: np.dstack([x, x]), (2, 3)),
    ("column_stack", lambda x: np.column_stack([x, x[:, 0]]), (2, 3)),
    ("array_of_list", lambda x: np.array([[x[0], 2.0], [x[1], x[0] * x[1]]]), (2,)),
    ("astype_complex", lambda x: x.astype(complex) * (1 + 2j), (3,)),
    ("broadcast_arrays", lambda x: np.broadcast_arrays(x, onp.ones((2, 1))), (3,)),
]


@pytest.mark.parametrize("fun,shape", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_shape_grads(fun, shape):
    check_grads(fun)(_randn(*shape))


@pytest.mark.parametrize("fun", [lambda x: np.reshape(x, (3, 2)), lambda x: np.transpose(x), np.ravel,
                                 lambda x: np.cumsum(x, 0), lambda x: np.swapaxes(x, 0, 1),
                                 lambda x: np.flip(x, 0), lambda x: np.rot90(x), lambda x: np.pad(x, 1),
                                 lambda x: np.split(x, 2)[0], lambda x: np.tile(x, 2)])
def test_complex_inputs(fun):
    check_grads(fun)(_randn(2, 3) + 1j * _randn(2, 3))


@pytest.mark.parametrize("name,fun", [("reshape", lambda x: np.reshape(x, -1)), ("transpose", np.transpose),
                                      ("tile", lambda x: np.tile(x, 2)), ("pad", lambda x: np.pad(x, 1)),
                                      ("diag", np.diagonal), ("split", lambda x: np.split(x, 2)[1]),
                                      ("concatenate", lambda x: np.concatenate([x, x]))])
def test_float32(name, fun):
    x = _randn(2, 2, dtype=onp.float32)
    check_grads(fun)(x)
    g = grad(lambda x: np.sum(np.sin(fun(x))))(x)
    assert g.dtype == onp.float32 and g.shape == x.shape


def _vjp_matrix(fun, x):
    """The transpose of fun's Jacobian at x, one VJP per output basis vector."""
    vjp, y = make_vjp(fun)(x)
    return onp.stack([vjp(e.reshape(onp.shape(y))).ravel() for e in onp.eye(onp.size(y))], axis=1)


def _jvp_matrix(fun, x):
    jvp = make_jvp(fun)(x)
    return onp.stack([onp.ravel(jvp(e.reshape(x.shape))[1]) for e in onp.eye(x.size)], axis=1)


@pytest.mark.parametrize("fun,shape", [(lambda x: np.repeat(x, [1, 3], axis=0), (2, 2)),
                                       (lambda x: np.pad(x, (2, 1), mode="reflect"), (3,)),
                                       (lambda x: np.diag(x, 1), (2,)), (lambda x: np.roll(x, 1, 0), (3, 2)),
                                       (lambda x: np.ravel(x.T, order="K"), (2, 3))])
def test_vjp_is_transpose_of_jvp(fun, shape):
    x = _randn(*shape)
    jacobian = _jvp_matrix(fun, x)
    assert onp.array_equal(_vjp_matrix(fun, x), jacobian.T)
    assert onp.array_equal(jacobian @ x.ravel(), onp.ravel(fun(x)))  # a gather: exact, and linear


def test_closed_forms():
    x = _randn(2, 3)
    assert onp.array_equal(grad(lambda x: np.sum(np.tile(x, (2, 3))))(x), onp.full((2, 3), 6.0))
    assert onp.array_equal(grad(lambda x: np.sum(np.repeat(x, [2, 0, 1], axis=1)))(x), [[2, 0, 1], [2, 0, 1]])
    assert onp.array_equal(grad(lambda x: np.sum(np.pad(x, 1, constant_values=7.0)))(x), onp.ones((2, 3)))
    assert onp.array_equal(grad(lambda x: np.sum(np.pad(x, (0, 2), mode="edge")))(x[0]), [1, 1, 3])
    w = _randn(3, 2)
    assert onp.array_equal(grad(lambda x: np.sum(w * np.transpose(x)))(x), w.T)
    assert onp.array_equal(grad(lambda x: np.sum(w * np.reshape(x, (3, 2), order="F")))(x),
                           w.reshape((2, 3), order="F"))
    assert onp.array_equal(grad(lambda x: np.sum(w[:2] * np.roll(x, 1, axis=1)[:, :2]))(x),
                           onp.roll(onp.pad(w[:2], ((0, 0), (0, 1))), -1, axis=1))
    assert onp.array_equal(grad(lambda x: np.sum(np.tril(x)))(x), onp.tril(onp.ones((2, 3))))
    assert onp.array_equal(grad(lambda x: np.sum(np.diag(x, 1)))(x), onp.eye(2, 3, 1))


def test_pad_constant_is_no_tangent():
    _, tangent = make_jvp(lambda x: np.pad(x, 1, constant_values=5.0))(onp.ones(2))(onp.array([1.0, 2.0]))
    assert onp.array_equal(tangent, [0, 1, 2, 0])


@pytest.mark.parametrize("kwargs", [{"mode": "mean"}, {"mode": "linear_ramp"}, {"mode": "reflect",
                                                                                 "reflect_type": "odd"}])
def test_pad_unsupported_modes(kwargs):
    with pytest.raises(NotImplementedError, match=kwargs.get("reflect_type", kwargs["mode"])):
        grad(lambda x: np.sum(np.pad(x, 1, **kwargs)))(_randn(3))


def test_split_unpacks_and_differentiates():
    x = _randn(4, 2)

    def f(x):
        a, b = np.split(x, 2)
        return np.sum(np.sin(a) * b)

    a, b = x[:2], x[2:]
    assert onp.allclose(grad(f)(x), onp.concatenate([onp.cos(a) * b, onp.sin(a)]))
    check_grads(f)(x)
    check_grads(lambda x: np.split(x, 2)[0] * 3)(x)
    pieces = np.array_split(x, 3)
    assert isinstance(pieces, list) and [p.shape for p in pieces] == [(2, 2), (1, 2), (1, 2)]


def test_several_arguments_give_traced_tuples():
    def f(x):
        a, b = np.atleast_2d(x[0], x)
        return np.sum(a * b)

    x = _randn(3)
    assert onp.allclose(grad(f)(x), x[0] + onp.eye(3)[0] * onp.sum(x))  # f = x0 * sum(x)
    check_grads(f, modes=["fwd"])(x)
    check_grads(lambda x: np.atleast_3d(x, 2 * x)[1])(x)
    check_grads(lambda x: np.broadcast_arrays(x[:, None], x)[0])(x)
    assert onp.allclose(grad(lambda x: np.sum(np.broadcast_arrays(x[:, None], x)[0]))(x), 3 * onp.ones(3))


def test_concatenate_mixed_dtypes_and_constants():
    x32, x64 = _randn(2, dtype=onp.float32), _randn(3)
    vjp, y = make_vjp(lambda a, b: np.concatenate([a, onp.arange(2), b]), (0, 1))(x32, x64)
    g32, g64 = vjp(onp.arange(7.0))
    assert y.dtype == onp.float64 and g32.dtype == onp.float32 and g64.dtype == onp.float64
    assert onp.array_equal(g32, [0, 1]) and onp.array_equal(g64, [4, 5, 6])
    z = _randn(2) + 1j
    check_grads(lambda x: np.stack([x, z]))(x32.astype(float))
    assert onp.isrealobj(grad(lambda x: np.real(np.sum(np.stack([x, z]) * (1 + 2j))))(x64[:2]))


def test_astype():
    x = _randn(3)
    g = grad(lambda x: np.sum(x.astype(onp.float32) ** 2))(x)
    assert g.dtype == onp.float64 and onp.allclose(g, 2 * x, rtol=1e-6)
    assert onp.array_equal(grad(lambda x: np.sum(x.astype(int) * x))(x), x.astype(int))  # int cast: no gradient
    g = grad(lambda x: np.real(np.sum(x.astype(complex) * 1j * x)))(x)
    assert g.dtype == onp.float64 and onp.allclose(g, 0)
    z = x + 1j * _randn(3)
    assert onp.allclose(grad(lambda z: np.sum(np.real(z).astype(float)))(z), onp.ones(3))
    check_grads(lambda z: z.astype(onp.complex128) * z)(z.astype(onp.complex64))
    check_grads(lambda x: x.astype(onp.float64) * 2)(x.astype(onp.float32))
    check_grads(lambda x: np.sin(x.astype(onp.float32)))(x.astype(onp.float32))


def test_result_shapes_and_positional_arguments():
    x = _randn(2, 3, 4)
    for fun in (lambda x: np.moveaxis(x, -1, 0), lambda x: np.swapaxes(x, 1, -1), lambda x: np.rollaxis(x, 1, 0),
                lambda x: np.squeeze(x[:, :1], 1), lambda x: np.roll(x, 5), lambda x: np.diagonal(x, 0, -1, 1)):
        g = grad(lambda x: np.sum(np.cos(fun(x))))(x)
        assert g.shape == x.shape and onp.allclose(g, grad(lambda x: np.sum(np.cos(x)))(x) * (g != 0))


def test_concatenate_and_stack_keep_dtype_on_traced_calls():
    x = _randn(2)
    for join in (np.concatenate, np.stack):
        vjp, ans = make_vjp(lambda x, join=join: join([x, x], dtype=np.float32))(x)
        assert ans.dtype == np.float32
        assert vjp(onp.ones(ans.shape, np.float32)).dtype == x.dtype


def test_gather_and_scatter_helpers_are_transposes_in_both_modes():
    """The private gather/scatter and slice/unslice primitives behind repeat, tile, pad, diag, split...: each pair's
    rules are checked directly, since the public functions reach some of them only at third order."""
    from gradviz.numpy.rules_shape import _gather, _scatter_add, _slice, _unslice

    sources = onp.array([[0, 3, -1], [5, 5, 1]])  # a repeat, and a -1 (zero) slot
    x = _randn(2, 3)
    check_grads(lambda x: _gather(x, sources))(x)
    check_grads(lambda g: _scatter_add(g, sources, (2, 3)))(_randn(2, 3))
    index = (slice(0, 2), 1)
    check_grads(lambda x: _slice(x, index))(_randn(3, 3))
    check_grads(lambda g: _unslice(g, index, (3, 3)))(_randn(2))
    g = _randn(2, 3)
    assert onp.allclose(onp.sum(_gather(x, sources) * g), onp.sum(x * _scatter_add(g, sources, (2, 3))))
