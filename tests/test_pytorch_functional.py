"""PyTorch's functional names added for PyTorch users: nll_loss, l1 / smooth-l1 / huber,
cosine_similarity, normalize, one_hot — values from their documented formulas (computed
with NumPy here), gradients against finite differences, errors naming the op."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_ng as tg
import tinygrad_ng.functional as F
from tinygrad_ng import Tensor
from tinygrad_ng.testing.strategies import arrays, shapes


def check(fn, *arrays_):
    ts = [Tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays_]
    assert tg.gradcheck(fn, ts)


# ------------------------------------------------------------------ nll_loss
@given(st.integers(1, 5), st.integers(2, 4), st.integers(0, 2), st.data())
def test_nll_loss_matches_its_formula(m, k, extra, data):
    shape = (m, k) + (2,) * extra  # classes on axis 1, as PyTorch
    logp = data.draw(arrays(shape, -4, 0))
    target = np.asarray(data.draw(arrays((m,) + (2,) * extra, 0, k - 1e-9))).astype(np.int64)
    weight = data.draw(arrays((k,), 0.5, 2.0))
    picked = np.take_along_axis(logp, target[:, None], axis=1)[:, 0]
    w = weight[target]
    for reduction, ref in (("none", -picked * w), ("sum", (-picked * w).sum()),
                           ("mean", (-picked * w).sum() / w.sum())):
        out = F.nll_loss(Tensor(logp), Tensor(target), weight=weight, reduction=reduction)
        np.testing.assert_allclose(out.data, ref, rtol=1e-12)
    check(lambda t: F.nll_loss(t, target, weight=weight), logp)
    check(lambda t: F.nll_loss(t, target, reduction="none"), logp)


def test_nll_loss_of_log_softmax_is_cross_entropy_and_ignore_index():
    z = np.random.default_rng(0).standard_normal((5, 3))
    y = np.array([0, 2, 1, 2, 0])
    np.testing.assert_allclose(F.nll_loss(Tensor(z).log_softmax(dim=1), y).data,
                               F.cross_entropy(Tensor(z), y).data, rtol=1e-6)
    y_ignored = np.array([0, -100, 1, -100, 0])
    logp = Tensor(z).log_softmax(1).data
    kept = [0, 2, 4]
    ref = -logp[kept, y_ignored[kept]].mean()
    np.testing.assert_allclose(F.nll_loss(Tensor(logp), y_ignored).data, ref, rtol=1e-6)
    t = Tensor(logp, requires_grad=True)
    F.nll_loss(t, y_ignored).backward()
    assert not t.grad[[1, 3]].any()  # ignored rows get no gradient
    with np.errstate(invalid="raise"):
        assert np.isnan(F.nll_loss(Tensor(logp), np.full(5, -100)).item())  # 0/0, as PyTorch
    assert F.nll_loss(Tensor(logp[0]), np.array(1)).item() == pytest.approx(-logp[0, 1])


def test_cross_entropy_takes_dim_for_the_class_axis():
    z = np.random.default_rng(2).standard_normal((2, 3, 4))  # (N, C, L), PyTorch's layout
    y = np.array([[0, 2, 1, 1], [2, 2, 0, 1]])
    ref = F.nll_loss(Tensor(z).log_softmax(dim=1), y)
    np.testing.assert_allclose(F.cross_entropy(Tensor(z), y, dim=1).data, ref.data, rtol=1e-6)


def test_nll_loss_errors_name_the_op():
    logp = Tensor(np.zeros((2, 3)))
    with pytest.raises(IndexError, match="nll_loss: class index 3 is out of range for 3"):
        F.nll_loss(logp, np.array([0, 3]))
    with pytest.raises(ValueError, match=r"nll_loss: input of shape \(2, 3\) .* target of shape "
                                         r"\(2,\), got \(3,\)"):
        F.nll_loss(logp, np.array([0, 1, 2]))
    with pytest.raises(TypeError, match="nll_loss: target must hold class indices"):
        F.nll_loss(logp, np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"nll_loss: weight must have shape \(3,\)"):
        F.nll_loss(logp, np.array([0, 1]), weight=np.ones(2))


# ------------------------------------------------------------------ regression losses
def _huber(d, delta):
    return np.where(np.abs(d) < delta, 0.5 * d * d, delta * (np.abs(d) - 0.5 * delta))


@given(data=st.data())
def test_l1_smooth_l1_huber(data):
    shape = data.draw(shapes())
    x, y = data.draw(arrays(shape, -3, 3)), data.draw(arrays(shape, -3, 3))
    y = np.where(np.abs(np.abs(x - y) - 0.7) < 1e-3, y + 0.1, y)  # off the seams
    y = np.where(np.abs(x - y) < 1e-3, y + 0.1, y)
    d = x - y
    refs = {"l1": np.abs(d), "smooth": np.where(np.abs(d) < 0.7, 0.5 * d * d / 0.7,
                                                 np.abs(d) - 0.35),
            "huber": _huber(d, 0.7)}
    fns = {"l1": F.l1_loss, "smooth": lambda a, b, **kw: F.smooth_l1_loss(a, b, beta=0.7, **kw),
           "huber": lambda a, b, **kw: F.huber_loss(a, b, delta=0.7, **kw)}
    for name, fn in fns.items():
        np.testing.assert_allclose(fn(Tensor(x), Tensor(y), reduction="none").data, refs[name])
        np.testing.assert_allclose(fn(Tensor(x), y).data, refs[name].mean())
        np.testing.assert_allclose(fn(Tensor(x), y, reduction="sum").data, refs[name].sum())
        check(lambda a, b, fn=fn: fn(a, b), x, y)


def test_regression_losses_at_their_seams_and_errors():
    x = Tensor([1.0, 2.0, 3.5], requires_grad=True)
    F.l1_loss(x, Tensor([1.0, 1.0, 4.0]), reduction="sum").backward()
    np.testing.assert_array_equal(x.grad, [0, 1, -1])  # 0 where ŷ = y, as PyTorch
    np.testing.assert_allclose(F.smooth_l1_loss(x, Tensor([1.0, 1.0, 4.0]), beta=0.0).data,
                               F.l1_loss(x, Tensor([1.0, 1.0, 4.0])).data)  # β = 0: L1
    with pytest.raises(ValueError, match=r"l1_loss: input and target must have the same shape"):
        F.l1_loss(tg.ones(3, 1), tg.ones(3))
    with pytest.raises(ValueError, match="smooth_l1_loss: reduction must be"):
        F.smooth_l1_loss(tg.ones(3), tg.ones(3), reduction="avg")


# ------------------------------------------------------------------ similarity, one_hot
@given(data=st.data())
def test_cosine_similarity_and_normalize(data):
    shape = data.draw(shapes(min_dims=2, max_dims=3))
    a = data.draw(arrays(shape, -3, 3)) + 0.5  # (never exactly the zero vector)
    b = data.draw(arrays(shape[1:], -3, 3)) - 0.5  # broadcast against a
    na = np.sqrt((a * a).sum(1, keepdims=True))
    nb = np.sqrt((np.broadcast_to(b, shape) ** 2).sum(1, keepdims=True))
    ref = ((a / np.maximum(na, 1e-8)) * (b / np.maximum(nb, 1e-8))).sum(1)
    np.testing.assert_allclose(F.cosine_similarity(Tensor(a), Tensor(b)).data, ref,
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(F.normalize(Tensor(a)).data, a / np.maximum(na, 1e-12))
    np.testing.assert_allclose(F.normalize(Tensor(a), p=1, dim=-1).data,  # (a zero row: 0)
                               a / np.maximum(np.abs(a).sum(-1, keepdims=True), 1e-12))
    if (na > 0.1).all() and (nb > 0.1).all():
        check(lambda s, t: F.cosine_similarity(s, t, dim=1), a, b)
        check(lambda s: F.normalize(s, dim=1), a)


def test_cosine_similarity_of_a_zero_vector_is_zero():
    x = Tensor(np.zeros((1, 3)), requires_grad=True)
    out = F.cosine_similarity(x, Tensor([[1.0, 2.0, 3.0]]))
    out.backward()
    assert out.item() == 0 and np.isfinite(x.grad).all()
    with pytest.raises(ValueError, match=r"cosine_similarity: shapes \(2, 3\) and \(2, 4\)"):
        F.cosine_similarity(tg.ones(2, 3), tg.ones(2, 4))


def test_one_hot():
    out = F.one_hot(Tensor([0, 2, 1]))
    assert out.dtype == np.int64 and out.tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
    assert F.one_hot(Tensor([[1], [0]]), num_classes=4).shape == (2, 1, 4)
    with pytest.raises(ValueError, match=r"one_hot: class values must lie in \[0, 2\)"):
        F.one_hot(Tensor([0, 2]), 2)
    with pytest.raises(TypeError, match="one_hot: expects integer class indices"):
        F.one_hot(Tensor([0.0]))
