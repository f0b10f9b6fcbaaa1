"""nn.Embedding / F.embedding and nn.utils' gradient clipping."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tinygrad_ng.nn.utils import clip_grad_norm_, clip_grad_value_

import tinygrad_ng as tg
import tinygrad_ng.functional as F
from tinygrad_ng import nn


# ----------------------------------------------------------------------------- embedding
@given(st.integers(1, 6), st.integers(1, 4), st.lists(st.integers(0, 5), min_size=1,
                                                       max_size=8), st.booleans())
def test_embedding_against_finite_differences(n, dim, idx, pad):
    idx = np.array([i % n for i in idx]).reshape(-1, 1)
    w = np.random.default_rng(0).standard_normal((n, dim))
    padding_idx = int(idx[0, 0]) if pad else None
    out = F.embedding(idx, tg.Tensor(w), padding_idx)
    np.testing.assert_array_equal(out.data, w[idx])
    t = tg.Tensor(w, requires_grad=True)
    assert tg.gradcheck(lambda t: F.embedding(idx, t) ** 2, [t])
    weight = np.random.default_rng(1).standard_normal(out.shape)
    (F.embedding(idx, t, padding_idx) * weight).sum().backward()
    want = np.zeros_like(w)
    for i, g in zip(idx.ravel(), weight.reshape(-1, dim)):  # repeats accumulate
        if i != padding_idx:
            want[i] += g
    np.testing.assert_allclose(t.grad, want)


def test_embedding_second_derivative():
    """The backward (a scatter-add) is itself differentiable: ∂²(Σ E[idx]³)/∂E² v."""
    idx = np.array([0, 2, 2])
    w = tg.Tensor(np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), requires_grad=True)
    e = F.embedding(idx, w)
    (g,) = tg.grad((e * e * e).sum(), [w], create_graph=True)
    v = np.ones((3, 2))
    (hv,) = tg.grad((g * v).sum(), [w])
    counts = np.array([[1], [0], [2]])  # how often each row was looked up
    np.testing.assert_allclose(hv, 6 * w.data * counts)


def test_embedding_layer():
    tg.manual_seed(0)
    emb = nn.Embedding(1000, 8, padding_idx=-1)
    assert emb.padding_idx == 999 and not emb.weight.data[999].any()
    assert 0.9 < emb.weight.data.std() < 1.1  # N(0, 1)
    out = emb(tg.Tensor(np.array([[1, 999], [3, 4]])))
    assert out.shape == (2, 2, 8)
    out.sum().backward()
    assert not emb.weight.grad[999].any() and emb.weight.grad[1].all()
    pre = nn.Embedding.from_pretrained(np.eye(3))
    assert not pre.weight.requires_grad and pre(np.array([2])).data.tolist() == [[0, 0, 1]]
    assert repr(emb).startswith("Embedding(1000, 8, padding_idx=999)")


def test_embedding_errors():
    emb = nn.Embedding(10, 3)
    with pytest.raises(IndexError, match=r"index 10 is out of range for a table of 10 rows"):
        emb(np.array([[1, 10]]))
    with pytest.raises(IndexError, match=r"index -1 is out of range"):
        emb(np.array([-1]))
    with pytest.raises(TypeError, match="integers"):
        emb(np.array([1.0]))
    with pytest.raises(ValueError, match="padding_idx 10"):
        nn.Embedding(10, 3, padding_idx=10)
    with pytest.raises(ValueError, match="2-D table"):
        F.embedding(np.array([0]), tg.zeros(3))
    assert emb(np.zeros((0,), dtype=np.int64)).shape == (0, 3)


# ----------------------------------------------------------------------------- clipping
def params_with_grads(*grads):
    ps = []
    for g in grads:
        p = tg.Tensor(np.zeros_like(g), requires_grad=True)
        p.grad = np.array(g, dtype=np.float64)
        ps.append(p)
    return ps


@given(st.lists(st.lists(st.floats(-10, 10), min_size=1, max_size=5), min_size=1, max_size=3),
       st.sampled_from([1.0, 2.0, 3.0, math.inf]), st.floats(0.1, 20))
def test_clip_grad_norm_is_pytorchs(grads, norm_type, max_norm):
    grads = [np.array(g) for g in grads]
    ps = params_with_grads(*grads)
    flat = np.concatenate(grads)
    total = np.abs(flat).max() if norm_type == math.inf else \
        (np.abs(flat) ** norm_type).sum() ** (1 / norm_type)
    norm = clip_grad_norm_(ps, max_norm, norm_type)
    assert isinstance(norm, tg.Tensor) and norm.item() == pytest.approx(total, rel=1e-12)
    coef = min(1.0, max_norm / (total + 1e-6))
    for p, g in zip(ps, grads):
        np.testing.assert_allclose(p.grad, g * coef, rtol=1e-12)


def test_clip_grad_norm_in_place_skips_missing_and_extremes():
    a, b = params_with_grads(np.array([3.0, 4.0]), np.array([0.0]))
    c = tg.Tensor(np.zeros(2), requires_grad=True)  # no gradient: skipped
    before = a.grad
    assert clip_grad_norm_([a, b, c], 1.0).item() == pytest.approx(5.0)
    assert a.grad is before  # scaled in place
    np.testing.assert_allclose(a.grad, [0.6, 0.8], rtol=1e-6)
    assert clip_grad_norm_(c, 1.0).item() == 0.0
    big = params_with_grads(np.array([1e300, 1e300]))  # squares would overflow
    assert clip_grad_norm_(big, 1.0).item() == pytest.approx(math.sqrt(2) * 1e300)
    np.testing.assert_allclose(big[0].grad, [1 / math.sqrt(2)] * 2)
    bad = params_with_grads(np.array([1.0, np.nan]))
    with pytest.raises(RuntimeError, match="non-finite|nan"):
        clip_grad_norm_(bad, 1.0, error_if_nonfinite=True)
    assert math.isnan(clip_grad_norm_(bad, 1.0).item()) and np.isnan(bad[0].grad).all()
    inf = params_with_grads(np.array([np.inf, 1.0]))
    assert clip_grad_norm_(inf, 1.0).item() == math.inf
    assert np.isnan(inf[0].grad[0]) and inf[0].grad[1] == 0  # PyTorch: grad · 0
    with pytest.raises(TypeError, match="Tensors"):
        clip_grad_norm_([np.zeros(2)], 1.0)


def test_clip_grad_value():
    (p,) = params_with_grads(np.array([-3.0, 0.5, 7.0]))
    clip_grad_value_(p, 1.0)
    np.testing.assert_array_equal(p.grad, [-1.0, 0.5, 1.0])
    with pytest.raises(ValueError, match="clip_value"):
        clip_grad_value_(p, -1.0)
