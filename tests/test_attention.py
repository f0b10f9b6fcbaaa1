"""Scaled dot-product attention and nn.MultiheadAttention: NumPy references, masks, finite
differences, PyTorch's parameter names and shapes, errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_ng as tg
import tinygrad_ng.functional as F
from tinygrad_ng import nn


def np_attention(q, k, v, allowed=None, bias=0.0):
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1]) + bias
    if allowed is not None:
        s = np.where(allowed, s, -np.inf)
    with np.errstate(invalid="ignore"):
        e = np.exp(s - s.max(axis=-1, keepdims=True))
        w = e / e.sum(axis=-1, keepdims=True)
    w = np.nan_to_num(w)  # fully masked rows: zero weights
    return w @ v, w


shapes = st.fixed_dictionaries({"batch": st.sampled_from([(), (2,), (2, 3)]),
                                "L": st.integers(1, 4), "S": st.integers(1, 4),
                                "E": st.integers(1, 3), "Ev": st.integers(1, 3),
                                "seed": st.integers(0, 2**16)})


def qkv(cfg):
    rng = np.random.default_rng(cfg["seed"])
    b = cfg["batch"]
    return (rng.standard_normal(b + (cfg["L"], cfg["E"])),
            rng.standard_normal(b + (cfg["S"], cfg["E"])),
            rng.standard_normal(b + (cfg["S"], cfg["Ev"])), rng)


@settings(max_examples=20)
@given(shapes, st.sampled_from(["none", "bool", "float", "causal"]))
def test_sdpa_against_numpy_and_finite_differences(cfg, mask_kind):
    q, k, v, rng = qkv(cfg)
    L, S = cfg["L"], cfg["S"]
    kwargs, allowed, bias = {}, None, 0.0
    if mask_kind == "bool":
        allowed = rng.random((L, S)) < 0.7
        kwargs["attn_mask"] = allowed
    elif mask_kind == "float":
        bias = rng.standard_normal((L, S))
        kwargs["attn_mask"] = bias
    elif mask_kind == "causal":
        allowed = np.tril(np.ones((L, S), bool))
        kwargs["is_causal"] = True
    want, _ = np_attention(q, k, v, allowed, bias)
    got = F.scaled_dot_product_attention(tg.Tensor(q), tg.Tensor(k), tg.Tensor(v), **kwargs)
    np.testing.assert_allclose(got.data, want, rtol=1e-10, atol=1e-12)
    ts = [tg.Tensor(a, requires_grad=True) for a in (q, k, v)]
    assert tg.gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, **kwargs), ts)


def test_sdpa_masks_follow_pytorch():
    q = tg.Tensor(np.ones((2, 3)))
    k = tg.Tensor(np.ones((3, 3)))
    v = tg.Tensor(np.arange(9.0).reshape(3, 3))
    # bool: True = may attend; row 1 sees key 0 only, row 0 nothing -> zeros, not NaN
    allowed = np.array([[False, False, False], [True, False, False]])
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
    np.testing.assert_array_equal(out.data, [[0, 0, 0], [0, 1, 2]])
    # float: -inf forbids, the rest is added
    fmask = np.array([[0.0, -np.inf, -np.inf], [-np.inf, 0.0, np.log(3.0)]])
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=fmask)
    np.testing.assert_allclose(out.data, [[0, 1, 2], [0.25 * 3 + 0.75 * 6, 0.25 * 4 + 0.75 * 7,
                                                      0.25 * 5 + 0.75 * 8]])
    out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    np.testing.assert_allclose(out.data, [[0, 1, 2], [1.5, 2.5, 3.5]])
    # gradients through a partly masked row stay finite and zero where masked
    qg = tg.Tensor(np.ones((2, 3)), requires_grad=True)
    F.scaled_dot_product_attention(qg, k, v, attn_mask=allowed).sum().backward()
    assert np.isfinite(qg.grad).all() and not qg.grad[0].any()


def test_sdpa_dropout_and_errors():
    q = tg.randn(2, 4, 3)
    tg.manual_seed(1)
    a = F.scaled_dot_product_attention(q, q, q, dropout_p=0.5)
    b = F.scaled_dot_product_attention(q, q, q)
    assert not np.allclose(a.data, b.data)
    with pytest.raises(ValueError, match="either attn_mask or is_causal"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=np.ones((4, 4), bool), is_causal=True)
    with pytest.raises(ValueError, match=r"attn_mask of shape \(3, 4\) does not broadcast"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=np.ones((3, 4), bool))
    with pytest.raises(ValueError, match="do not fit"):
        F.scaled_dot_product_attention(q, tg.randn(2, 4, 5), q)
    with pytest.raises(TypeError, match="bool .* or float"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=np.ones((4, 4), int))


# ----------------------------------------------------------------------------- the layer
def np_mha(mha, q, k, v, allowed=None):
    """PyTorch's equations, batch-first (N, L, E), with the layer's own arrays. (This
    reference, with the masks of the test below, matched PyTorch 2.11's layer to 1e-16 when
    run once elsewhere; its SDPA also gives the zero rows of test_sdpa_masks_follow_pytorch.)"""
    E, h = mha.embed_dim, mha.num_heads
    W, b = mha.in_proj_weight.data, mha.in_proj_bias.data
    proj = [x @ W[i * E:(i + 1) * E].T + b[i * E:(i + 1) * E] for i, x in enumerate((q, k, v))]
    split = [p.reshape(p.shape[0], p.shape[1], h, E // h).transpose(0, 2, 1, 3) for p in proj]
    out, w = np_attention(*split, allowed)
    out = out.transpose(0, 2, 1, 3).reshape(q.shape[0], q.shape[1], E)
    return out @ mha.out_proj.weight.data.T + mha.out_proj.bias.data, w


@pytest.mark.parametrize("batch_first", [False, True])
def test_multihead_attention_against_numpy(batch_first):
    tg.manual_seed(0)
    mha = nn.MultiheadAttention(6, 3, batch_first=batch_first, dtype=np.float64)
    rng = np.random.default_rng(0)
    N, L, S = 2, 3, 4
    q, k, v = (rng.standard_normal((N, n, 6)) for n in (L, S, S))
    pad = np.array([[False, False, True, True], [False, False, False, False]])
    causal = np.triu(np.ones((L, S), bool), 1)  # True = may NOT attend (the layer's rule)
    args = [tg.Tensor(a if batch_first else a.transpose(1, 0, 2)) for a in (q, k, v)]
    out, w = mha(*args, key_padding_mask=pad, attn_mask=causal, average_attn_weights=False)
    want, want_w = np_mha(mha, q, k, v, allowed=~pad[:, None, None, :] & ~causal)
    got = out.data if batch_first else out.data.transpose(1, 0, 2)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(w.data, want_w, rtol=1e-10, atol=1e-12)
    _, avg = mha(*args, key_padding_mask=pad, attn_mask=causal)
    np.testing.assert_allclose(avg.data, want_w.mean(axis=1))
    assert mha(*args, need_weights=False)[1] is None


def test_multihead_attention_gradients_names_and_errors():
    mha = nn.MultiheadAttention(4, 2, dtype=np.float64)
    assert [n for n, _ in mha.named_parameters()] == [
        "in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]
    assert mha.in_proj_weight.shape == (12, 4) and not mha.in_proj_bias.data.any()
    x = tg.Tensor(np.random.default_rng(0).standard_normal((3, 2, 4)), requires_grad=True)
    assert tg.gradcheck(lambda t: mha(t, t, t, is_causal=True)[0], [x])
    cross = nn.MultiheadAttention(4, 2, kdim=3, vdim=5)
    assert {n for n, _ in cross.named_parameters()} >= {"q_proj_weight", "k_proj_weight",
                                                         "v_proj_weight"}
    out, w = cross(tg.randn(2, 4), tg.randn(6, 3), tg.randn(6, 5))  # unbatched
    assert out.shape == (2, 4) and w.shape == (2, 6)
    with pytest.raises(NotImplementedError, match="add_bias_kv"):
        nn.MultiheadAttention(4, 2, 0.0, True, True)
    assert nn.MultiheadAttention(4, 2, 0.0, True, False, False, 3, 5).vdim == 5  # positional
    with pytest.raises(ValueError, match="divisible"):
        nn.MultiheadAttention(5, 2)
    with pytest.raises(ValueError, match=r"expected query of shape \(len, N, 4\).*batch_first"):
        mha(tg.randn(3, 2, 5), tg.randn(3, 2, 4), tg.randn(3, 2, 4))
    with pytest.raises(ValueError, match=r"key_padding_mask must be \(N, S\) = \(2, 3\)"):
        mha(tg.randn(3, 2, 4), tg.randn(3, 2, 4), tg.randn(3, 2, 4),
            key_padding_mask=np.zeros((3, 2), bool))
    with pytest.raises(ValueError, match=r"attn_mask must be \(L, S\)"):
        mha(tg.randn(3, 2, 4), tg.randn(3, 2, 4), tg.randn(3, 2, 4),
            attn_mask=np.zeros((2, 2), bool))


def test_extreme_scores_stay_finite():
    q = tg.Tensor(np.full((2, 3, 4), 1e4, np.float32), requires_grad=True)
    k = tg.Tensor(np.array([[1e4], [-1e4], [0.0]], np.float32) * np.ones((2, 3, 4), np.float32))
    out = F.scaled_dot_product_attention(q, k, k, attn_mask=np.tril(np.ones((3, 3), bool)))
    out.sum().backward()
    assert np.isfinite(out.data).all() and np.isfinite(q.grad).all()
