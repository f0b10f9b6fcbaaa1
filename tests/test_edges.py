"""Exact gradients at the kinks and extremes that finite differences cannot judge."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_ng as tg
import tinygrad_ng.functional as F


def grads(fn, *values):
    ts = [tg.Tensor(np.asarray(v, dtype=np.float64), requires_grad=True) for v in values]
    fn(*ts).sum().backward()
    return [t.grad for t in ts]


def test_relu_abs_leaky_at_zero():
    x = [-1.0, 0.0, 2.0]
    np.testing.assert_array_equal(grads(lambda t: t.relu(), x)[0], [0, 0, 1])
    np.testing.assert_array_equal(grads(lambda t: t.abs(), x)[0], [-1, 0, 1])
    np.testing.assert_allclose(grads(lambda t: t.leaky_relu(0.2), x)[0], [0.2, 0.2, 1])


def test_max_min_split_ties_evenly():
    x = [[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]
    np.testing.assert_allclose(grads(lambda t: t.max(axis=1), x)[0],
                               [[0, .5, .5], [1 / 3, 1 / 3, 1 / 3]])
    np.testing.assert_allclose(grads(lambda t: t.min(), x)[0],
                               [[1, 0, 0], [0, 0, 0]])
    np.testing.assert_allclose(grads(lambda t: t.max(), [[5.0, 5.0]])[0], [[.5, .5]])


def test_maximum_minimum_ties_share_half():
    ga, gb = grads(lambda a, b: a.maximum(b), [1.0, 2.0, 3.0], [1.0, 5.0, 0.0])
    np.testing.assert_allclose(ga, [.5, 0, 1])
    np.testing.assert_allclose(gb, [.5, 1, 0])
    ga, gb = grads(lambda a, b: a.minimum(b), [1.0], [1.0])
    np.testing.assert_allclose(ga + gb, [1.0])


def test_clip_gradient_passes_on_the_boundary():
    np.testing.assert_array_equal(grads(lambda t: t.clip(0, 1), [-1, 0, .5, 1, 2])[0],
                                  [0, 1, 1, 1, 0])


@given(st.sampled_from([1e4, -1e4, 88.0, -88.0, 1e30, -1e30]))
def test_extreme_inputs_stay_finite(v):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for dtype in (np.float32, np.float64):
            x = tg.Tensor(np.array([v, 0.0, -v], dtype=dtype), requires_grad=True)
            for fn in (lambda t: t.sigmoid(), lambda t: t.tanh(), lambda t: t.softmax(),
                       lambda t: t.log_softmax(), lambda t: t.logsumexp()):
                y = fn(x)
                y.sum().backward()
                assert np.isfinite(y.data).all(), (fn, v)
                assert np.isfinite(x.grad).all(), (fn, v)
                assert y.dtype == dtype
                x.grad = None


def test_logsumexp_of_all_minus_inf_is_minus_inf():
    out = tg.Tensor([-np.inf, -np.inf]).logsumexp()
    assert out.item() == -np.inf


def test_sigmoid_saturates_exactly():
    y = tg.Tensor([1e4, -1e4]).sigmoid()
    np.testing.assert_array_equal(y.data, [1.0, 0.0])


def test_pow_at_zero_base():
    ga, gb = grads(lambda a, b: a ** b, [0.0, 2.0], [2.0, 3.0])
    np.testing.assert_allclose(ga, [0.0, 12.0])
    np.testing.assert_allclose(gb, [0.0, 8 * np.log(2)])


def test_sqrt_of_zero_has_infinite_slope():
    with np.errstate(divide="ignore"):
        (g,) = grads(lambda t: t.sqrt(), [0.0])
    assert g[0] == np.inf


@pytest.mark.parametrize("n", [1, 7])
def test_mean_and_var_exact(n):
    x = np.arange(n, dtype=np.float64)
    (g,) = grads(lambda t: t.mean(), x)
    np.testing.assert_allclose(g, np.full(n, 1 / n))
    (g,) = grads(lambda t: t.var(), x)
    np.testing.assert_allclose(g, 2 * (x - x.mean()) / n)


def test_pow_with_zero_exponent_at_zero_base():
    ga, gb = grads(lambda a, b: a ** b, [0.0, 1.0], [0.0, 0.0])
    np.testing.assert_array_equal(ga, [0.0, 0.0])
    (g,) = grads(lambda a: a ** 0, [0.0, 2.0])
    np.testing.assert_array_equal(g, [0.0, 0.0])


# ---------------------------------------------------------------- IEEE results, no warnings
# Overflow, 0/0, log 0, inf − inf: every library op gives the IEEE result (inf, nan)
# silently, forward and backward, as PyTorch; detect_anomaly() is the tool that stops there.

EXTREMES = [1e300, -1e300, 3e38, -3e38, 1e200, 1000.0, -1000.0, 100.0, np.inf, -np.inf,
            np.nan, 0.0, -0.0, 1e-300, 5e-324, 1.0, -2.5]

UNARY_OPS = {
    "neg": lambda t: -t, "exp": lambda t: t.exp(), "log": lambda t: t.log(),
    "sqrt": lambda t: t.sqrt(), "abs": lambda t: t.abs(), "square": lambda t: t.square(),
    "clip": lambda t: t.clip(-1.0, 1.0), "sigmoid": lambda t: t.sigmoid(),
    "tanh": lambda t: t.tanh(), "relu": lambda t: t.relu(),
    "leaky_relu": lambda t: t.leaky_relu(), "softmax": lambda t: t.softmax(0),
    "log_softmax": lambda t: t.log_softmax(), "logsumexp": lambda t: t.logsumexp(1),
    "sum": lambda t: t.sum(), "mean": lambda t: t.mean(0), "var": lambda t: t.var(axis=1),
    "max": lambda t: t.max(axis=1), "min": lambda t: t.min(), "pow 3": lambda t: t ** 3,
    "pow 0.5": lambda t: t ** 0.5, "pow -1": lambda t: t ** -1, "2 ** x": lambda t: 2 ** t,
    "1 / x": lambda t: 1 / t, "x / 0": lambda t: t / 0.0, "x * 1e300": lambda t: t * 1e300,
    "x + 1e308": lambda t: t + 1e308, "cast": lambda t: t.astype(np.float32),
    "x @ x.T": lambda t: t @ t.T, "dropout": lambda t: F.dropout(t, 0.5),
    "batch_norm": lambda t: F.batch_norm(t, np.ones(3), np.zeros(3)),
    "batch_norm, running": lambda t: F.batch_norm(t, running_mean=np.zeros(3),
                                                  running_var=np.ones(3)),
}
BINARY_OPS = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b, "pow": lambda a, b: a ** b, "matmul": lambda a, b: a @ b,
    "maximum": lambda a, b: a.maximum(b), "minimum": lambda a, b: a.minimum(b),
    "where": lambda a, b: tg.where(a.data > b.data, a, b),
    "linear": lambda a, b: F.linear(a, b, a[0]),
    "mse_loss": lambda a, b: F.mse_loss(a, b),
    "cross_entropy, probabilities": lambda a, b: F.cross_entropy(a, b),
    "cross_entropy, classes": lambda a, b: F.cross_entropy(a, np.array([0, 1, 2])),
    "binary_cross_entropy": lambda a, b: F.binary_cross_entropy(  # (NaN: an error)
        tg.where(np.isnan(a.data), 0.5, a.sigmoid()), (b.data > 0).astype(a.dtype)),
    "binary_cross_entropy_with_logits": lambda a, b: F.binary_cross_entropy_with_logits(a, b),
}

extreme_matrices = st.lists(st.sampled_from(EXTREMES), min_size=9, max_size=9).map(
    lambda v: np.array(v).reshape(3, 3))


@given(op=st.sampled_from(sorted(UNARY_OPS) + sorted(BINARY_OPS)), a=extreme_matrices,
       b=extreme_matrices, dtype=st.sampled_from([np.float32, np.float64]))
def test_extreme_inputs_give_ieee_results_without_warnings(op, a, b, dtype):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="ignore"):  # (the test's own cast to float32)
            x, y = (tg.Tensor(v.astype(dtype), requires_grad=True) for v in (a, b))
        out = UNARY_OPS[op](x) if op in UNARY_OPS else BINARY_OPS[op](x, y)
        out.backward(np.ones(out.shape))


def test_an_error_mode_the_user_sets_is_respected():
    x = tg.Tensor([1000.0])
    with np.errstate(over="raise"), pytest.raises(FloatingPointError):
        x.exp()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert x.exp().item() == np.inf  # NumPy's default modes: silent inside the op
        with pytest.raises(RuntimeWarning):
            np.exp(np.array(1000.0))  # and NumPy's own defaults are back outside it


def test_the_numpy_1_error_modes_fallback_agrees():
    from tinygrad_ng.autograd import DEFAULT, _SetErr, is_default

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert is_default(_SetErr.get())
        token = _SetErr.set({"all": "ignore"})
        assert np.exp(np.array(1000.0)) == np.inf
        assert not is_default(_SetErr.get())  # (modes other than the default: left alone)
        _SetErr.reset(token)
        assert np.geterr() == DEFAULT and is_default(_SetErr.get())
        with pytest.raises(RuntimeWarning):
            np.exp(np.array(1000.0))


def test_default_modes_set_again_by_np_seterr_still_count_as_default():
    old = np.seterr(all="raise")
    np.seterr(**old)  # NumPy's defaults again, in a new object
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tg.Tensor([1000.0]).exp().item() == np.inf
