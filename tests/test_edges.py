"""Exact gradients at the kinks and extremes that finite differences cannot judge."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_ng as tg


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
