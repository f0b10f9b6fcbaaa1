"""The new differentiable ops (elementwise maths, scans, norm, PyTorch's activations, layer
norm) against float64 finite differences: first derivatives, and second derivatives through
``tg.grad(..., create_graph=True)``; values against NumPy / ``math``; edge values exactly."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_ng as tg
import tinygrad_ng.functional as F
from tinygrad_ng.testing.strategies import arrays, broadcastable_shapes, shapes


def _f64(arrays_):
    return [tg.Tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays_]


def check(fn, *arrays_):
    """gradcheck ``fn`` on float64 tensors that require grad."""
    assert tg.gradcheck(fn, _f64(arrays_))


def check2(fn, *arrays_, second=True):
    """The gradient of Σ fn taken with create_graph=True equals the plain one, and (with
    ``second``) passes gradcheck itself: the second derivatives."""
    def first(*xs):
        with tg.enable_grad():  # (gradcheck evaluates its finite differences under no_grad)
            grads = tg.grad(fn(*xs).sum(), list(xs), create_graph=True)
        return tg.concatenate([g.reshape(-1) for g in grads])
    xs = _f64(arrays_)
    plain = tg.grad(fn(*xs).sum(), xs)
    np.testing.assert_allclose(first(*xs).data, np.concatenate([g.ravel() for g in plain]),
                               rtol=1e-10, atol=1e-12)
    if second:
        assert tg.gradcheck(first, xs)


def pair(low, high):
    return broadcastable_shapes(2).flatmap(
        lambda s: st.tuples(arrays(s[0], low, high), arrays(s[1], low, high)))


# ------------------------------------------------------------------ unary maths
UNARY = {  # name: (NumPy's function, low, high)
    "sin": (np.sin, -3, 3), "cos": (np.cos, -3, 3), "tan": (np.tan, -1.2, 1.2),
    "arcsin": (np.arcsin, -0.9, 0.9), "arccos": (np.arccos, -0.9, 0.9),
    "arctan": (np.arctan, -3, 3), "sinh": (np.sinh, -3, 3), "cosh": (np.cosh, -3, 3),
    "arcsinh": (np.arcsinh, -3, 3), "arccosh": (np.arccosh, 1.2, 4),
    "arctanh": (np.arctanh, -0.9, 0.9), "log2": (np.log2, 0.2, 4), "log10": (np.log10, 0.2, 4),
    "log1p": (np.log1p, -0.7, 3), "exp2": (np.exp2, -3, 3), "expm1": (np.expm1, -3, 3),
    "cbrt": (np.cbrt, 0.2, 3), "erf": (np.vectorize(math.erf), -3, 3),
}


@pytest.mark.parametrize("name", UNARY)
@given(data=st.data())
def test_unary_maths_values_and_derivatives(name, data):
    ref, low, high = UNARY[name]
    x = data.draw(arrays(shapes(), low, high))
    np.testing.assert_allclose(getattr(tg.Tensor(x), name)().data, ref(x), rtol=1e-12)
    check(lambda t: getattr(t, name)(), x)
    check2(lambda t: getattr(t, name)(), x)


@pytest.mark.parametrize("name", ["arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh",
                                  "arctan2"])
def test_pytorch_spellings_are_the_same_ops(name):
    short = "a" + name[3:]
    x = tg.tensor([1.5, 2.0], dtype=np.float64)
    args = (tg.tensor([0.5, -1.0], dtype=np.float64),) if name == "arctan2" else ()
    x = x / 4 if name in ("arcsin", "arccos", "arctanh") else x
    np.testing.assert_array_equal(getattr(x, short)(*args).data, getattr(x, name)(*args).data)
    np.testing.assert_array_equal(getattr(tg, short)(x, *args).data,
                                  getattr(x, name)(*args).data)


@given(pair(-3, 3))
def test_arctan2_with_broadcasting(yx):
    y, x = yx
    x = np.where(np.abs(x) < 0.1, 0.5, x)  # away from the origin
    y = np.where(np.abs(y) < 0.1, 0.5, y)  # and from the branch cut (y = 0, x < 0)
    np.testing.assert_allclose(tg.Tensor(y).arctan2(tg.Tensor(x)).data, np.arctan2(y, x))
    check(lambda a, b: a.arctan2(b), y, x)
    check2(lambda a, b: a.arctan2(b), y, x)


@given(pair(-5, 5))
def test_logaddexp_with_broadcasting(ab):
    a, b = ab
    np.testing.assert_allclose(tg.Tensor(a).logaddexp(tg.Tensor(b)).data, np.logaddexp(a, b))
    check(lambda s, t: s.logaddexp(t), a, b)
    check2(lambda s, t: s.logaddexp(t), a, b)


def test_maths_edges_are_exact_finite_and_warning_free():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        big = tg.tensor([1e4, -1e4, 0.0], dtype=np.float64, requires_grad=True)
        out = big.logaddexp(tg.tensor([1e4, 0.0, 0.0], dtype=np.float64))
        out.sum().backward()
        np.testing.assert_allclose(out.data, [1e4 + math.log(2), 0.0, math.log(2)])
        np.testing.assert_allclose(big.grad, [0.5, 0.0, 0.5])
        tiny = tg.tensor([1e-12], dtype=np.float64)
        assert tiny.log1p().item() == math.log1p(1e-12) and tiny.expm1().item() == \
            math.expm1(1e-12)
        origin = tg.zeros(2, dtype=np.float64, requires_grad=True)
        origin[0].arctan2(origin[1]).backward()  # no derivative at the origin: 0, not NaN
        np.testing.assert_array_equal(origin.grad, [0.0, 0.0])
        zero = tg.zeros(1, dtype=np.float64, requires_grad=True)
        zero.cbrt().backward()  # d∛x/dx = +inf at 0, as PyTorch
        assert zero.grad[0] == np.inf
        s = tg.tensor([-2.0, 0.0, 3.0], requires_grad=True)
        s.sign().sum().backward()  # sign's gradient is zero, not missing
        np.testing.assert_array_equal(s.sign().data, [-1, 0, 1])
        np.testing.assert_array_equal(s.grad, [0, 0, 0])
        assert tg.tensor([1.0], dtype=np.float32).sin().dtype == np.float32
        assert tg.tensor([2]).log2().dtype == np.float32  # integers become floats


# ------------------------------------------------------------------ scans, products, norms
@given(data=st.data())
def test_cumsum_and_cumprod(data):
    x = data.draw(arrays(shapes(min_dims=1), 0.3, 2.0))
    x = np.where(data.draw(arrays(x.shape, -1, 1)) >= 0, x, -x)  # random signs, |x| >= 0.3
    d = data.draw(st.integers(-x.ndim, x.ndim - 1))
    np.testing.assert_allclose(tg.Tensor(x).cumsum(d).data, np.cumsum(x, axis=d))
    np.testing.assert_allclose(tg.Tensor(x).cumprod(dim=d).data, np.cumprod(x, axis=d))
    check(lambda t: t.cumsum(d), x)
    check(lambda t: t.cumprod(d), x)
    check2(lambda t: t.cumsum(d), x)
    check2(lambda t: t.cumprod(d), x)


@pytest.mark.parametrize("row", [[2.0, 0.0, 3.0, 4.0], [0.0, 5.0, 0.0, 2.0], [0.0, 0, 0, 0]])
def test_cumprod_and_prod_gradients_through_zeros(row):
    x = np.array([row, [1.5, -2.0, 0.5, 3.0]])
    check(lambda t: t.cumprod(1), x)
    check(lambda t: t.prod(1), x)
    check(lambda t: t.prod(), x)
    t = tg.Tensor(x, requires_grad=True)
    t.prod(dim=1).sum().backward()
    expected = [[np.prod(np.delete(r, i)) for i in range(4)] for r in x]
    np.testing.assert_allclose(t.grad, expected)


def test_prod_values_keepdim_and_empty_axes():
    x = np.arange(1.0, 25.0).reshape(2, 3, 4) / 7
    t = tg.Tensor(x)
    np.testing.assert_allclose(t.prod().data, np.prod(x))
    np.testing.assert_allclose(t.prod(1, keepdim=True).data, np.prod(x, 1, keepdims=True))
    np.testing.assert_allclose(t.prod(axis=(0, 2)).data, np.prod(x, axis=(0, 2)))
    np.testing.assert_array_equal(tg.zeros(2, 0).prod(1).data, [1.0, 1.0])


@given(data=st.data())
def test_norm_matches_numpy_and_differentiates(data):
    x = data.draw(arrays(shapes(min_dims=1), -3, 3))
    dim = data.draw(st.one_of(st.none(), st.integers(0, x.ndim - 1)))
    t = tg.Tensor(x)
    flat = x.reshape(-1) if dim is None else np.moveaxis(x, dim, -1)
    for p, ref in ((2, lambda v: np.sqrt((v * v).sum(-1))), (1, lambda v: np.abs(v).sum(-1)),
                   (3, lambda v: (np.abs(v) ** 3).sum(-1) ** (1 / 3)),
                   (math.inf, lambda v: np.abs(v).max(-1))):
        np.testing.assert_allclose(t.norm(p, dim=dim).data, ref(flat), rtol=1e-12)
    if np.all(np.abs(x) > 1e-3):
        check(lambda s: s.norm(dim=dim), x)
        check2(lambda s: s.norm(dim=dim), x)


def test_norm_gradient_at_the_origin_is_zero():
    x = tg.zeros(3, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x.norm().backward()
    np.testing.assert_array_equal(x.grad, [0, 0, 0])
    assert tg.tensor([[3.0, 4.0]]).norm(dim=1, keepdim=True).shape == (1, 1)
    assert tg.tensor([3.0, 0.0, -4.0]).norm(0).item() == 2
    with pytest.raises(ValueError, match="norm: p must be"):
        tg.ones(2).norm(-2)


# ------------------------------------------------------------------ activations
def _gelu(x):
    return x * 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))


def _softplus(x, beta=1.0):
    return np.where(beta * x > 20, x, np.log1p(np.exp(beta * x)) / beta)


def _converted(*ops):
    """Whether the existing ops a composition uses are twice differentiable yet (issue 16)."""
    return all(op.twice_differentiable for op in ops)


ACTIVATIONS = {  # name: (function, NumPy reference, low, high, second derivatives tested)
    "gelu": (F.gelu, _gelu, -4, 4, True),
    "gelu_tanh": (lambda z: F.gelu(z, approximate="tanh"),
                  lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3))),
                  -4, 4, _converted(F.Tanh)),
    "silu": (F.silu, lambda x: x / (1 + np.exp(-x)), -4, 4, _converted(F.Sigmoid)),
    "elu": (lambda z: F.elu(z, 0.5), lambda x: np.where(x > 0, x, 0.5 * np.expm1(x)),
            -3, 3, True),
    "selu": (F.selu, lambda x: 1.0507009873554805 * np.where(
        x > 0, x, 1.6732632423543772 * np.expm1(x)), -3, 3, True),
    "softplus": (lambda z: F.softplus(z, beta=2.0), lambda x: _softplus(x, 2.0), -4, 4, True),
    "mish": (F.mish, lambda x: x * np.tanh(np.log1p(np.exp(x))), -4, 4, _converted(F.Tanh)),
    "relu6": (F.relu6, lambda x: np.clip(x, 0, 6), -3, 9, True),
    "hardswish": (F.hardswish, lambda x: x * np.clip(x + 3, 0, 6) / 6, -5, 5, True),
    "hardtanh": (F.hardtanh, lambda x: np.clip(x, -1, 1), -3, 3, True),
}
KINKS = {"elu": [0], "selu": [0], "relu6": [0, 6], "hardswish": [-3, 3], "hardtanh": [-1, 1]}


@pytest.mark.parametrize("name", ACTIVATIONS)
@given(data=st.data())
def test_activations_values_and_derivatives(name, data):
    fn, ref, low, high, twice = ACTIVATIONS[name]
    x = data.draw(arrays(shapes(), low, high))
    for k in KINKS.get(name, []):  # finite differences are meaningless at a kink
        x = np.where(np.abs(x - k) < 1e-3, k + 0.01, x)
    np.testing.assert_allclose(fn(tg.Tensor(x)).data, ref(x), rtol=1e-9, atol=1e-12)
    check(fn, x)
    check2(fn, x, second=twice)


def test_activations_at_the_kinks_follow_pytorch():
    x = tg.tensor([-1.0, 0.0, 1.0, 6.0], dtype=np.float64, requires_grad=True)
    F.relu6(x).sum().backward()  # hardtanh: 1 strictly inside (0, 6)
    np.testing.assert_array_equal(x.grad, [0, 0, 1, 0])
    x.grad = None
    F.elu(x, alpha=2.0).sum().backward()  # at 0: α
    np.testing.assert_allclose(x.grad, [2 * math.exp(-1), 2, 1, 1])


@pytest.mark.parametrize("fn", [F.gelu, F.silu, F.elu, F.selu, F.softplus, F.mish, F.hardswish,
                                lambda z: F.gelu(z, approximate="tanh")])
def test_activations_stay_finite_at_extremes(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for dtype in (np.float32, np.float64):
            x = tg.tensor([1e4, -1e4, 88.0, -88.0, 0.0], dtype=dtype, requires_grad=True)
            y = fn(x)
            y.sum().backward()
            assert y.dtype == dtype
            assert np.isfinite(y.data).all() and np.isfinite(x.grad).all()


def test_softplus_is_linear_above_the_threshold_as_pytorch():
    x = tg.tensor([15.0, 9.0], dtype=np.float64, requires_grad=True)
    y = F.softplus(x, beta=2.0)  # β·x = 30 > 20: x itself; 18 < 20: the soft formula
    y.sum().backward()
    assert y.data[0] == 15.0 and x.grad[0] == 1.0
    assert y.data[1] == np.log1p(np.exp(18.0)) / 2 and x.grad[1] < 1.0


def test_activation_argument_errors():
    with pytest.raises(ValueError, match="gelu: approximate"):
        F.gelu(tg.ones(2), approximate="fast")
    with pytest.raises(ValueError, match="softplus: beta"):
        F.softplus(tg.ones(2), beta=0)
    with pytest.raises(ValueError, match="hardtanh: need min_val < max_val"):
        F.hardtanh(tg.ones(2), 1.0, -1.0)


# ------------------------------------------------------------------ layer norm
@given(data=st.data())
def test_layer_norm(data):
    shape = data.draw(shapes(min_dims=1, min_side=2))
    k = data.draw(st.integers(1, len(shape)))
    x = data.draw(arrays(shape, -3, 3))
    x = x + np.linspace(0, 1, x.size).reshape(shape)  # never constant over the axes
    w, b = data.draw(arrays(shape[-k:], -2, 2)), data.draw(arrays(shape[-k:], -2, 2))
    axes = tuple(range(len(shape) - k, len(shape)))
    ref = (x - x.mean(axes, keepdims=True)) / np.sqrt(x.var(axes, keepdims=True) + 1e-5) * w + b
    np.testing.assert_allclose(F.layer_norm(tg.Tensor(x), shape[-k:], tg.Tensor(w),
                                            tg.Tensor(b)).data, ref, rtol=1e-9, atol=1e-10)
    check(lambda t, s, c: F.layer_norm(t, shape[-k:], s, c), x, w, b)
    check(lambda t: F.layer_norm(t, shape[-k:]), x)
    check2(lambda t, s, c: F.layer_norm(t, shape[-k:], s, c), x, w, b,
           second=tg.ops.Sqrt.twice_differentiable)  # (its composed form uses √: issue 16)


def test_layer_norm_errors_name_the_shapes():
    with pytest.raises(ValueError, match=r"layer_norm: input of shape \(2, 3\) does not end"):
        F.layer_norm(tg.ones(2, 3), (2,))
    with pytest.raises(ValueError, match=r"layer_norm: weight has shape \(2,\), expected \(3,\)"):
        F.layer_norm(tg.ones(2, 3), 3, weight=tg.ones(2))


def test_errors_name_the_op_and_shapes():
    with pytest.raises(ValueError, match=r"arctan2: shapes \(2,\) and \(3,\)"):
        tg.ones(2).arctan2(tg.ones(3))
    with pytest.raises(ValueError, match=r"logaddexp: shapes \(2, 1\) and \(3, 2\)"):
        tg.ones(2, 1).logaddexp(tg.ones(3, 2))
    with pytest.raises(ValueError, match="cumsum: axis 2 is out of range"):
        tg.ones(2, 3).cumsum(2)
    with pytest.raises(ValueError, match="cumprod: axis -3 is out of range"):
        tg.ones(2, 3).cumprod(dim=-3)
    with pytest.raises(ValueError, match="norm: axis 5 is out of range"):
        tg.ones(2, 3).norm(dim=5)
