"""Convolution, pooling, padding and resizing ops (functional): against plain NumPy
references written loop by loop, against float64 finite differences (first and second
derivatives) over random sizes, strides, paddings, dilations and groups, and their errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_ng as tg
import tinygrad_ng.functional as F


# ------------------------------------------------------------------ NumPy references
def ref_conv2d(x, w, b, stride, pad, dilation, groups):
    """The definition, one output pixel at a time: y[n, o, h, w] = Σ W·(the window)."""
    (sh, sw), (ph, pw), (dh, dw) = stride, pad, dilation
    n, c, _, _ = x.shape
    o, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    oh = (xp.shape[2] - dh * (kh - 1) - 1) // sh + 1
    ow = (xp.shape[3] - dw * (kw - 1) - 1) // sw + 1
    y = np.zeros((n, o, oh, ow))
    og = o // groups
    for k in range(o):
        chans = slice((k // og) * cg, (k // og + 1) * cg)
        for i in range(oh):
            for j in range(ow):
                win = xp[:, chans, i * sh:i * sh + dh * (kh - 1) + 1:dh,
                         j * sw:j * sw + dw * (kw - 1) + 1:dw]
                y[:, k, i, j] = (win * w[k]).sum(axis=(1, 2, 3))
    return y if b is None else y + b[:, None, None]


def ref_pool(x, k, s, p, reduce, pad_value):
    """Max or mean (over the padded window, count_include_pad) of each window, by loops."""
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=pad_value)
    oh, ow = (xp.shape[2] - k) // s + 1, (xp.shape[3] - k) // s + 1
    y = np.zeros(x.shape[:2] + (oh, ow))
    for i in range(oh):
        for j in range(ow):
            y[:, :, i, j] = reduce(xp[:, :, i * s:i * s + k, j * s:j * s + k], axis=(2, 3))
    return y


# ------------------------------------------------------------------ strategies
@st.composite
def conv_cases(draw, max_side=3):
    """A conv2d configuration with an input that fits: kernel = input, stride > kernel,
    1×1 kernels, odd sizes and groups all come up."""
    groups = draw(st.integers(1, 3))
    c, o = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, max_side)) for _ in range(2))
    stride = tuple(draw(st.sampled_from([1, 1, 2, 3])) for _ in range(2))  # 1 most often
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(2))
    pad = tuple(draw(st.integers(0, 2)) for _ in range(2))
    size = tuple(max(1, d * (k - 1) + 1 - 2 * p + draw(st.integers(0, 3)))
                 for k, d, p in zip(kernel, dilation, pad))
    n = draw(st.integers(1, 2))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c) + size)
    w = rng.standard_normal((o, c // groups) + kernel)
    b = rng.standard_normal(o) if draw(st.booleans()) else None
    return x, w, b, dict(stride=stride, padding=pad, dilation=dilation, groups=groups)


def check(fn, *arrays):
    ts = [tg.Tensor(a, requires_grad=True) for a in arrays]
    assert tg.gradcheck(fn, ts)


def sq(t):
    return t * t  # (a product: twice differentiable whatever ** is)


def hvp_check(fn, *arrays, eps=1e-5, seed=0):
    """Second derivatives: the Hessian-vector product from ``tg.grad(create_graph=True)``
    against centred finite differences of the gradient, for every input at once."""
    rng = np.random.default_rng(seed)
    vs = [rng.standard_normal(a.shape) for a in arrays]

    def gradient(values):
        ts = [tg.Tensor(a, requires_grad=True) for a in values]
        return tg.grad(fn(*ts), ts)

    ts = [tg.Tensor(a, requires_grad=True) for a in arrays]
    grads = tg.grad(fn(*ts), ts, create_graph=True)
    dot = sum((g * tg.Tensor(v)).sum() for g, v in zip(grads, vs))
    hvp = tg.grad(dot, ts)
    plus = gradient([a + eps * v for a, v in zip(arrays, vs)])
    minus = gradient([a - eps * v for a, v in zip(arrays, vs)])
    for h, p, m in zip(hvp, plus, minus):
        np.testing.assert_allclose(h, (p - m) / (2 * eps), rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ conv2d
@given(conv_cases())
def test_conv2d_matches_the_definition(case):
    x, w, b, kw = case
    y = F.conv2d(x, w, b, **kw)
    np.testing.assert_allclose(y.data, ref_conv2d(x, w, b, kw["stride"], kw["padding"],
                                                  kw["dilation"], kw["groups"]), atol=1e-12)


@given(conv_cases())
def test_conv2d_gradcheck(case):
    x, w, b, kw = case
    if b is None:
        check(lambda x_, w_: F.conv2d(x_, w_, **kw), x, w)
    else:
        check(lambda x_, w_, b_: F.conv2d(x_, w_, b_, **kw), x, w, b)


@settings(max_examples=15)
@given(conv_cases(max_side=2))
def test_conv2d_second_derivatives(case):
    x, w, _, kw = case
    c = np.random.default_rng(1).standard_normal(F.conv2d(x, w, **kw).shape)
    hvp_check(lambda x_, w_: (sq(F.conv2d(x_, w_, **kw)) * c).sum(), x, w)


@given(conv_cases())
def test_conv_transpose2d_is_the_adjoint_of_conv2d(case):
    """<conv(x, W), y> = <x, convᵀ(y, W)> for every x, y: the definition of the adjoint."""
    x, w, _, kw = case
    y = np.random.default_rng(2).standard_normal(F.conv2d(x, w, **kw).shape)
    stride, pad = kw["stride"], kw["padding"]
    # the output_padding that gives back x's size (PyTorch's rule: it must be < stride)
    extra = [n - ((m - 1) * s - 2 * p + d * (k - 1) + 1) for n, m, s, p, d, k in
             zip(x.shape[2:], y.shape[2:], stride, pad, kw["dilation"], w.shape[2:])]
    if any(e >= s for e, s in zip(extra, stride)):
        return  # rows the windows never reach: no output_padding gives that size back
    back = F.conv_transpose2d(y, w, stride=stride, padding=pad, output_padding=tuple(extra),
                              groups=kw["groups"], dilation=kw["dilation"])
    assert back.shape == x.shape
    lhs = (F.conv2d(x, w, **kw).data * y).sum()
    assert np.isclose(lhs, (x * back.data).sum(), rtol=1e-10, atol=1e-10)


@given(st.data())
def test_conv_transpose2d_gradcheck_and_second_derivatives(data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    groups = data.draw(st.integers(1, 2))
    stride = data.draw(st.integers(1, 3))
    k, p = data.draw(st.integers(1, 3)), data.draw(st.integers(0, 1))
    extra = data.draw(st.integers(0, stride - 1))
    size = data.draw(st.integers(max(1, p), 3))
    y = rng.standard_normal((2, 2 * groups, size, size + 1))
    w = rng.standard_normal((2 * groups, data.draw(st.integers(1, 2)), k, k))
    b = rng.standard_normal(w.shape[1] * groups)
    kw = dict(stride=stride, padding=p, output_padding=extra, groups=groups)
    if (size - 1) * stride - 2 * p + k + extra < 1:
        return
    check(lambda y_, w_, b_: F.conv_transpose2d(y_, w_, b_, **kw), y, w, b)
    c = rng.standard_normal(F.conv_transpose2d(y, w, **kw).shape)
    hvp_check(lambda y_, w_: (sq(F.conv_transpose2d(y_, w_, **kw)) * c).sum(), y, w)


def test_third_derivative_of_a_convolution():
    """d³/dx³ of Σ conv(x, W)³ = 6·Σ_o W³ term by term: the ops stay closed at any order."""
    x = tg.Tensor(np.array([[[[0.5, -1.0, 2.0]]]]), requires_grad=True)
    w = tg.Tensor(np.array([[[[1.5]]]]))
    y = F.conv2d(x, w)
    (g,) = tg.grad((y * y * y).sum(), x, create_graph=True)
    (h,) = tg.grad(g.sum(), x, create_graph=True)
    (t,) = tg.grad(h.sum(), x)
    np.testing.assert_allclose(g.data, 3 * 1.5 ** 3 * x.data ** 2)
    np.testing.assert_allclose(t, np.full(x.shape, 6 * 1.5 ** 3))


def test_conv2d_same_and_valid_padding():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 2, 5, 6))
    for k in [(3, 3), (4, 2), (1, 5)]:
        w = rng.standard_normal((3, 2) + k)
        y = F.conv2d(x, w, padding="same")
        assert y.shape == (1, 3, 5, 6)
        # PyTorch's 'same': total k − 1 per axis, the odd one extra on the bottom/right
        top, left = (k[0] - 1) // 2, (k[1] - 1) // 2
        xp = np.pad(x, ((0, 0), (0, 0), (top, k[0] - 1 - top), (left, k[1] - 1 - left)))
        np.testing.assert_allclose(y.data, ref_conv2d(xp, w, None, (1, 1), (0, 0), (1, 1), 1))
    w = rng.standard_normal((3, 2, 3, 3))
    assert F.conv2d(x, w, padding="valid").shape == (1, 3, 3, 4)


@pytest.mark.parametrize("n, f, p, s", [(5, 3, 0, 1), (7, 3, 1, 2), (6, 2, 0, 2), (8, 8, 0, 1),
                                        (5, 1, 0, 3), (9, 4, 2, 3), (4, 2, 0, 5)])
def test_output_size_is_the_courses_formula(n, f, p, s):
    x, w = np.ones((1, 1, n, n + 1), np.float32), np.ones((1, 1, f, f), np.float32)
    y = F.conv2d(x, w, stride=s, padding=p)
    assert y.shape[2:] == ((n + 2 * p - f) // s + 1, (n + 1 + 2 * p - f) // s + 1)


def test_conv2d_keeps_float32_and_does_not_touch_the_inputs():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    x0, w0 = x.copy(), w.copy()
    X, W = tg.Tensor(x, requires_grad=True), tg.Tensor(w, requires_grad=True)
    y = F.conv2d(X, W, tg.zeros(4), padding=1)
    y.backward(np.ones(y.shape, np.float32))
    assert y.dtype == X.grad.dtype == W.grad.dtype == np.float32
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(w, w0)
    assert x.flags.writeable and w.flags.writeable


@given(st.integers(1, 4), st.integers(1, 3), st.integers(0, 2), st.integers(1, 2),
       st.integers(0, 2**16))
def test_conv1d_is_conv2d_on_one_row(k, stride, pad, dilation, seed):
    rng = np.random.default_rng(seed)
    length = dilation * (k - 1) + 1 + rng.integers(0, 4)
    x, w = rng.standard_normal((2, 3, length)), rng.standard_normal((4, 3, k))
    b = rng.standard_normal(4)
    kw = dict(stride=stride, padding=pad, dilation=dilation)
    y = F.conv1d(x, w, b, **kw)
    ref = ref_conv2d(x[:, :, None], w[:, :, None], b, (1, stride), (0, pad), (1, dilation), 1)
    np.testing.assert_allclose(y.data, ref[:, :, 0], atol=1e-12)
    check(lambda x_, w_, b_: F.conv1d(x_, w_, b_, **kw), x, w, b)


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("call, message", [
    (lambda: F.conv2d(np.ones((1, 3, 5, 5)), np.ones((2, 4, 3, 3))),
     "conv2d: input has 3 channels, weight expects 4"),
    (lambda: F.conv2d(np.ones((1, 3, 2, 2)), np.ones((2, 3, 5, 5)), padding=1),
     "conv2d: kernel 5×5 .* larger than the padded input 4×4"),
    (lambda: F.conv2d(np.ones((1, 4, 5, 5)), np.ones((6, 2, 3, 3)), groups=3),
     "conv2d: groups=3 must divide both the input channels \\(4\\)"),
    (lambda: F.conv2d(np.ones((3, 8, 8)), np.ones((2, 3, 3, 3))),
     "conv2d: expected a 4-D input .* add the batch axis: x.unsqueeze\\(0\\)"),
    (lambda: F.conv2d(np.ones((1, 3, 8, 8)), np.ones((2, 3, 3, 3)), stride=2, padding="same"),
     "padding='same' needs stride 1"),
    (lambda: F.conv2d(np.ones((1, 3, 8, 8)), np.ones((2, 3, 3, 3)), stride=0),
     "conv2d: stride must be an int ≥ 1"),
    (lambda: F.conv2d(np.ones((1, 3, 8, 8)), np.ones((2, 3, 3, 3)), np.ones(3)),
     "conv2d: bias has shape \\(3,\\), expected \\(2,\\)"),
    (lambda: F.conv1d(np.ones((3, 8)), np.ones((2, 3, 3))),
     "conv1d: expected a 3-D input \\(N, C, L\\).*unsqueeze"),
    (lambda: F.conv_transpose2d(np.ones((1, 2, 4, 4)), np.ones((3, 2, 3, 3))),
     "conv_transpose2d: input has 2 channels, weight expects 3"),
    (lambda: F.conv_transpose2d(np.ones((1, 2, 4, 4)), np.ones((2, 2, 3, 3)), stride=2,
                                output_padding=2),
     "output_padding \\(2, 2\\) must be smaller than the stride"),
    (lambda: F.max_pool2d(np.ones((1, 1, 2, 2)), 3), "max_pool2d: kernel .* larger than"),
    (lambda: F.max_pool2d(np.ones((1, 1, 8, 8)), 2, padding=2), "at most half the kernel"),
    (lambda: F.avg_pool2d(np.ones((8, 8)), 2), "avg_pool2d: expected a 4-D input"),
    (lambda: F.pad(np.ones((1, 1, 3, 3)), (3, 3), mode="reflect"),
     "pad: reflect padding of \\(3, 3\\) needs an axis longer"),
    (lambda: F.pad(np.ones((1, 3)), (1, 1, 1, 1, 1, 1)), "pad: pad must be a tuple"),
    (lambda: F.interpolate(np.ones((1, 1, 3, 3)), size=4, scale_factor=2),
     "exactly one of size and scale_factor"),
    (lambda: F.dropout2d(np.ones((3, 4, 4))), "dropout2d: expected a 4-D input .*unsqueeze"),
])
def test_errors_name_the_op_and_the_mismatch(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ------------------------------------------------------------------ pooling
@st.composite
def pool_cases(draw):
    k, s = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    p = draw(st.integers(0, k // 2))
    h, w = (max(1, k - 2 * p + draw(st.integers(0, 3))) for _ in range(2))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    # distinct values a finite difference cannot reorder: the max of each window is unique
    x = rng.permutation(2 * h * w * 3).reshape(2, 3, h, w) * 0.1 + rng.uniform(0, 0.01)
    return x, k, s, p


@given(pool_cases())
def test_max_pool2d_matches_loops_and_gradcheck(case):
    x, k, s, p = case
    np.testing.assert_array_equal(F.max_pool2d(x, k, s, p).data,
                                  ref_pool(x, k, s, p, np.max, -np.inf))
    check(lambda t: F.max_pool2d(t, k, s, p), x)
    hvp_check(lambda t: sq(F.max_pool2d(t, k, s, p)).sum(), x)


@given(pool_cases())
def test_avg_pool2d_matches_loops_and_gradcheck(case):
    x, k, s, p = case
    np.testing.assert_allclose(F.avg_pool2d(x, k, s, p).data,
                               ref_pool(x, k, s, p, np.mean, 0.0), atol=1e-12)
    check(lambda t: F.avg_pool2d(t, k, s, p), x)
    hvp_check(lambda t: sq(F.avg_pool2d(t, k, s, p)).sum(), x)


@given(pool_cases(), st.booleans())
def test_pooling_ceil_mode_and_count_include_pad_gradcheck(case, include):
    x, k, s, p = case
    check(lambda t: F.max_pool2d(t, k, s, p, ceil_mode=True), x)
    check(lambda t: F.avg_pool2d(t, k, s, p, ceil_mode=True, count_include_pad=include), x)


def test_avg_pool2d_divisors():
    """count_include_pad=False divides by the real cells only; ceil_mode's partial last
    window by the cells it covers; divisor_override by the given number."""
    x = np.ones((1, 1, 3, 3))
    y = F.avg_pool2d(x, 2, 2, 1, count_include_pad=False)
    np.testing.assert_allclose(y.data, np.ones((1, 1, 2, 2)))
    y = F.avg_pool2d(x, 2, 2, 1)  # corners: 1 real cell of 4
    np.testing.assert_allclose(y.data, [[[[0.25, 0.5], [0.5, 1.0]]]])
    y = F.avg_pool2d(x, 2, 2, ceil_mode=True)  # the last row and column are half windows
    np.testing.assert_allclose(y.data, np.ones((1, 1, 2, 2)))
    np.testing.assert_allclose(F.avg_pool2d(x, 3, divisor_override=2).data, [[[[4.5]]]])


def test_max_pool2d_ties_send_the_gradient_to_the_first_maximum():
    """The documented rule: within a window the first maximum in row-major order gets the
    whole gradient; the others get 0."""
    x = tg.Tensor(np.array([[[[1.0, 3.0, 3.0, 0.0],
                              [3.0, 2.0, 5.0, 5.0]]]]), requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad, [[[[0, 1, 0, 0], [0, 0, 1, 0]]]])
    # overlapping windows that share one maximum: its gradients add up
    x = tg.Tensor(np.array([[[[0.0, 9.0, 0.0]]]]), requires_grad=True)
    y = F.max_pool2d(x, (1, 2), stride=1)
    y.backward(np.array([[[[2.0, 5.0]]]]))
    np.testing.assert_array_equal(x.grad, [[[[0, 7, 0]]]])


def test_max_pool2d_nan_wins_and_infinities_stay_finite():
    x = np.array([[[[1.0, np.nan], [-np.inf, 2.0]]]])
    t = tg.Tensor(x, requires_grad=True)
    y = F.max_pool2d(t, 2)
    assert np.isnan(y.item())
    y.backward()
    np.testing.assert_array_equal(t.grad, [[[[0, 1], [0, 0]]]])
    t = tg.Tensor(np.full((1, 1, 2, 2), -np.inf), requires_grad=True)
    y = F.max_pool2d(t, 2, padding=1)
    y.backward(np.ones(y.shape))
    assert np.isfinite(t.grad).all() and t.grad.sum() == y.size


@given(st.integers(1, 7), st.integers(1, 7), st.integers(1, 4), st.integers(1, 4),
       st.integers(0, 2**16))
def test_adaptive_avg_pool2d_windows_and_gradcheck(h, w, oh, ow, seed):
    x = np.random.default_rng(seed).standard_normal((2, 2, h, w))
    y = F.adaptive_avg_pool2d(x, (oh, ow))
    ref = np.zeros((2, 2, oh, ow))
    for i in range(oh):
        for j in range(ow):  # PyTorch's windows: ⌊i·h/oh⌋ … ⌈(i+1)·h/oh⌉
            r0, r1 = i * h // oh, -(-(i + 1) * h // oh)
            c0, c1 = j * w // ow, -(-(j + 1) * w // ow)
            ref[:, :, i, j] = x[:, :, r0:r1, c0:c1].mean(axis=(2, 3))
    np.testing.assert_allclose(y.data, ref, atol=1e-12)
    check(lambda t: F.adaptive_avg_pool2d(t, (oh, ow)), x)
    assert F.adaptive_avg_pool2d(x, 1).shape == (2, 2, 1, 1)
    assert F.adaptive_avg_pool2d(x, (None, ow)).shape == (2, 2, h, ow)


# ------------------------------------------------------------------ pad, interpolate, dropout2d
@pytest.mark.parametrize("mode, numpy_mode", [("constant", "constant"), ("reflect", "reflect"),
                                              ("replicate", "edge")])
@given(st.data())
def test_pad_matches_numpy_and_gradcheck(mode, numpy_mode, data):
    h, w = data.draw(st.integers(2, 4)), data.draw(st.integers(2, 4))
    widths = [data.draw(st.integers(0, n - 1)) for n in (w, w, h, h)]
    x = np.random.default_rng(data.draw(st.integers(0, 99))).standard_normal((2, 2, h, w))
    y = F.pad(x, tuple(widths), mode=mode)
    (left, right, top, bottom) = widths
    np.testing.assert_array_equal(
        y.data, np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), mode=numpy_mode))
    check(lambda t: F.pad(t, tuple(widths), mode=mode), x)
    hvp_check(lambda t: sq(F.pad(t, tuple(widths), mode=mode)).sum(), x)


def test_pad_constant_value_and_one_axis():
    y = F.pad(np.zeros((1, 2, 3)), (1, 2), value=7.0)
    assert y.shape == (1, 2, 6)
    np.testing.assert_array_equal(y.data[0, 0], [7, 0, 0, 0, 7, 7])


@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 9), st.integers(1, 9))
def test_interpolate_nearest(h, w, oh, ow):
    x = np.random.default_rng(h * w).standard_normal((1, 2, h, w))
    y = F.interpolate(x, size=(oh, ow))
    rows, cols = (np.arange(oh) * h) // oh, (np.arange(ow) * w) // ow
    np.testing.assert_array_equal(y.data, x[:, :, rows][:, :, :, cols])
    check(lambda t: F.interpolate(t, size=(oh, ow)), x)


def test_interpolate_integer_factor_repeats_and_sums_back():
    x = tg.Tensor(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), requires_grad=True)
    y = F.interpolate(x, scale_factor=2)
    np.testing.assert_array_equal(y.data[0, 0], np.kron([[1, 2], [3, 4]], np.ones((2, 2))))
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, np.full((1, 1, 2, 2), 4.0))
    assert F.upsample(np.ones((1, 1, 5)), scale_factor=3).shape == (1, 1, 15)


def test_dropout2d_drops_whole_channels():
    tg.manual_seed(3)
    x = tg.Tensor(np.ones((8, 16, 3, 3)), requires_grad=True)
    y = F.dropout2d(x, p=0.25)
    per_channel = y.data.reshape(8, 16, -1)
    assert np.all(per_channel.min(axis=2) == per_channel.max(axis=2))  # all or nothing
    assert set(np.unique(y.data)) <= {0.0, 1 / 0.75}
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, y.data)  # ∂/∂x = mask / keep_prob
    assert F.dropout2d(x, 0.5, training=False) is x


@given(conv_cases())
def test_conv_ops_agree_when_the_batch_is_cut_into_chunks(case):
    """The kernels process the batch a few images at a time (CHUNK); one image per chunk
    gives the same values and gradients as the whole batch at once."""
    import tinygrad_ng.functional.conv as conv

    x, w, b, kw = case
    results = []
    for chunk in (1, conv.CHUNK):
        saved, conv.CHUNK = conv.CHUNK, chunk
        try:
            X, W = tg.Tensor(x, requires_grad=True), tg.Tensor(w, requires_grad=True)
            y = F.conv2d(X, W, **kw)
            y.backward(np.cos(np.arange(y.size)).reshape(y.shape))
            results.append((y.data, X.grad, W.grad))
        finally:
            conv.CHUNK = saved
    for a, b_ in zip(*results):
        np.testing.assert_allclose(a, b_, atol=1e-12)


@given(conv_cases())
def test_stride1_input_gradient_as_a_convolution_agrees_with_col2im(case):
    """The fast path (a stride-1 conv's adjoint computed as a convolution with the flipped
    kernel) gives col2im's values."""
    from tinygrad_ng.functional import conv

    x, w, _, kw = case
    geom = conv.conv_geometry(x.shape, w.shape, 1, kw["padding"], kw["dilation"], kw["groups"])
    if conv._as_stride1_conv(geom) is None:
        return
    y = np.random.default_rng(3).standard_normal((x.shape[0], w.shape[0]) + geom.out)
    np.testing.assert_allclose(conv._conv_input_grad(y, w, geom),
                               conv._col2im_input_grad(y, w, geom), atol=1e-12)


@pytest.mark.parametrize("fn", [
    lambda x: F.conv2d(x, tg.ones(2, 3, 3, 3, requires_grad=True), padding=1),
    lambda x: F.conv_transpose2d(x, tg.ones(3, 2, 3, 3, requires_grad=True), stride=2),
    lambda x: F.max_pool2d(x, 2), lambda x: F.max_pool2d(x, 3, 1, 1),
    lambda x: F.avg_pool2d(x, 2), lambda x: F.adaptive_avg_pool2d(x, (3, 2)),
    lambda x: F.pad(x, (1, 1, 1, 1), mode="reflect"), lambda x: F.interpolate(x, size=(5, 7)),
], ids=["conv2d", "conv_transpose2d", "max_pool2d", "max_pool2d_overlap", "avg_pool2d",
        "adaptive_avg_pool2d", "pad", "interpolate"])
def test_an_empty_batch_gives_empty_outputs_and_gradients(fn):
    x = tg.Tensor(np.zeros((0, 3, 4, 4), np.float32), requires_grad=True)
    y = fn(x)
    assert y.shape[0] == 0
    y.backward(np.zeros(y.shape, np.float32))
    assert x.grad.shape == x.shape


def test_pooling_huge_values_stays_finite():
    """Means of values near float32's maximum do not overflow (the kernel holds 1/f², not
    ones), and their gradients are finite."""
    x = tg.Tensor(np.full((1, 2, 4, 5), 3e38, np.float32), requires_grad=True)
    for y in (F.avg_pool2d(x, 2, ceil_mode=True), F.avg_pool2d(x, 3, 1, 1, count_include_pad=False),
              F.adaptive_avg_pool2d(x, 1), F.max_pool2d(x, 2)):
        assert np.isfinite(y.data).all() and np.allclose(y.data, 3e38, rtol=1e-6)
        x.grad = None
        y.backward(np.ones(y.shape, np.float32))
        assert np.isfinite(x.grad).all()
