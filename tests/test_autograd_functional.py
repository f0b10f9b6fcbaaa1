"""tg.autograd.functional: jacobian, hessian, vjp, jvp, hvp, vhp (PyTorch's names and
signatures) against finite differences on random smooth functions, their tuple structures,
create_graph, and bad input."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_ng as tg
from tinygrad_ng import Tensor
from tinygrad_ng.autograd import functional as AF
from tinygrad_ng.testing.strategies import arrays, shapes


def numeric_jacobian(f, x, eps=1e-6):
    """d f(x).ravel() / d x.ravel() by centred differences, shaped f.shape + x.shape."""
    out = f(x)
    cols = []
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = eps
        e = e.reshape(x.shape)
        cols.append((f(x + e) - f(x - e)).ravel() / (2 * eps))
    return np.stack(cols, axis=-1).reshape(np.shape(out) + x.shape)


SMOOTH = [
    lambda t: t.exp() * t.sum(),
    lambda t: (t * t).tanh() + t.sigmoid(),
    lambda t: t.softmax(-1) * t,
    lambda t: (t @ t.T if t.ndim == 2 else t * t) / (1 + t.square().sum()),
    lambda t: t.logsumexp(-1, keepdims=True) * t.mean(),
]


@st.composite
def smooth_problem(draw):
    f = draw(st.sampled_from(SMOOTH))
    x = draw(arrays(shapes(min_dims=1, max_dims=2, max_side=3), -1.5, 1.5))
    return f, x


def values_of(f):
    """f as a function of NumPy arrays (no graph)."""
    def g(a):
        with tg.no_grad():
            return f(Tensor(a)).data
    return g


@given(smooth_problem())
def test_jacobian_jvp_vjp_match_finite_differences(problem):
    f, x = problem
    t = Tensor(x)
    J = AF.jacobian(f, t)
    expected = numeric_jacobian(values_of(f), x)
    np.testing.assert_allclose(J.data, expected, rtol=1e-6, atol=1e-7)
    rng = np.random.default_rng(0)
    out_shape = expected.shape[:expected.ndim - x.ndim]
    Jm = expected.reshape(int(np.prod(out_shape)), x.size)
    v_in, v_out = rng.standard_normal(x.shape), rng.standard_normal(out_shape)
    value, jv = AF.jvp(f, t, v_in)
    np.testing.assert_allclose(jv.data.ravel(), Jm @ v_in.ravel(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(value.data, values_of(f)(x))
    _, vj = AF.vjp(f, t, v_out)
    np.testing.assert_allclose(vj.data.ravel(), v_out.ravel() @ Jm, rtol=1e-6, atol=1e-7)


@given(smooth_problem())
def test_hessian_hvp_vhp_match_finite_differences(problem):
    f, x = problem
    scalar = lambda t: (f(t) * f(t)).sum()  # noqa: E731
    t = Tensor(x)
    H = AF.hessian(scalar, t)

    def gradient(a):
        return tg.grad(scalar(ta := Tensor(a, requires_grad=True)), ta)[0]

    expected = numeric_jacobian(gradient, x)
    np.testing.assert_allclose(H.data, expected, rtol=1e-5, atol=1e-6)
    v = np.random.default_rng(1).standard_normal(x.shape)
    Hm = expected.reshape(x.size, x.size)
    value, hv = AF.hvp(scalar, t, v)
    np.testing.assert_allclose(hv.data.ravel(), Hm @ v.ravel(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(value.data, values_of(scalar)(x))
    _, vh = AF.vhp(scalar, t, v)
    np.testing.assert_allclose(vh.data.ravel(), v.ravel() @ Hm, rtol=1e-5, atol=1e-6)


def test_functional_tuple_structures_follow_pytorch():
    a = Tensor(np.array([1.0, 2.0]))
    b = Tensor(np.array([0.5, -1.0, 3.0]))
    f = lambda x, y: (x.sum() * y, x * y.sum())  # noqa: E731
    J = AF.jacobian(f, (a, b))
    assert [[blk.shape for blk in row] for row in J] == [[(3, 2), (3, 3)], [(2, 2), (2, 3)]]
    np.testing.assert_allclose(J[0][0].data, np.outer(b.data, np.ones(2)))
    np.testing.assert_allclose(J[1][1].data, np.outer(a.data, np.ones(3)))
    H = AF.hessian(lambda x, y: (x.sum() * y).sum(), (a, b))
    np.testing.assert_allclose(H[0][1].data, np.ones((2, 3)))
    np.testing.assert_allclose(H[0][0].data, np.zeros((2, 2)))
    out, (va, vb) = AF.vjp(f, (a, b), (np.ones(3), np.ones(2)))
    assert isinstance(out, tuple) and va.shape == (2,) and vb.shape == (3,)
    out, (ja, jb) = AF.jvp(f, (a, b), (np.ones(2), np.zeros(3)))
    np.testing.assert_allclose(ja.data, 2 * b.data)  # ∂(Σx·y)/∂x · 1 = y·Σ1 = 2y
    np.testing.assert_allclose(jb.data, np.full(2, b.data.sum()))
    assert not any(t.requires_grad for t in (ja, jb, va, vb, *out))


def test_functional_create_graph_differentiates_again():
    x = Tensor(np.array([0.3, -0.8]), requires_grad=True)
    H = AF.hessian(lambda t: (t ** 4).sum(), x, create_graph=True)
    assert H.requires_grad
    third, = tg.grad(H.sum(), x)  # d/dx Σ diag(12x²) = 24x
    np.testing.assert_allclose(third, 24 * x.data)
    _, hv = AF.hvp(lambda t: (t ** 4).sum(), x, np.ones(2), create_graph=True)
    np.testing.assert_allclose(tg.grad(hv.sum(), x)[0], 24 * x.data)
    assert x.grad is None


def test_functional_bad_input():
    x = Tensor(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"hessian: the function must return a single "
                                         r"one-element Tensor.*shape \(2,\)"):
        AF.hessian(lambda t: t * t, x)
    with pytest.raises(ValueError, match="hvp: the function must return a single"):
        AF.hvp(lambda t: t * t, x, np.ones(2))
    with pytest.raises(ValueError, match=r"more than MAX_ELEMENTS.*use vjp, jvp"):
        AF.jacobian(lambda t: t * 2, Tensor(np.zeros(AF.MAX_ELEMENTS // 512 + 1)))
    with pytest.raises(RuntimeError, match="does not depend on input 1.*strict=True"):
        AF.jacobian(lambda a, b: a * 2, (x, x), strict=True)
    zero = AF.jacobian(lambda a, b: a * 2, (x, x))[1]
    np.testing.assert_array_equal(zero.data, np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"jvp: v\[0\] has shape \(3,\) but input 0 has shape"):
        AF.jvp(lambda t: t * 2, x, np.ones(3))
    with pytest.raises(ValueError, match="v can be omitted only"):
        AF.vjp(lambda t: t * 2, x)
    with pytest.raises(TypeError, match="output 0 is a float"):
        AF.jacobian(lambda t: 1.0, x)
