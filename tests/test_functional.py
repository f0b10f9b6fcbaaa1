"""tinygrad_ng.functional: every op is one graph node with a hand-derived backward.

Checked here: gradients against centred finite differences in float64 (hypothesis draws
shapes, axes, reductions, targets); that each op is a single node; agreement with the same
function composed from primitive Tensor ops; PyTorch's semantics (running statistics,
label smoothing, BCE clipping, the ReLU gradient at 0); finiteness at extreme inputs with
overflow/invalid/divide-by-zero turned into errors; error messages; dropout statistics.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_ng as tg
import tinygrad_ng.functional as F
from tinygrad_ng import Tensor
from tinygrad_ng.testing.strategies import arrays, shapes

REDUCTIONS = st.sampled_from(["mean", "sum", "none"])
# Underflow to 0 (e^-20000) is the intended result, so only these are errors:
STRICT = {"over": "raise", "divide": "raise", "invalid": "raise"}


def leaf(a, requires_grad=True):
    return Tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def check(fn, *inputs):
    """gradcheck ``fn`` in float64; arrays become leaves that require grad."""
    ts = [x if isinstance(x, Tensor) or x is None else leaf(x) for x in inputs]
    assert tg.gradcheck(fn, ts)


def without(shape, axis):
    axis %= len(shape)
    return shape[:axis] + shape[axis + 1:]


def normal(seed, shape, scale=1.0):
    return np.random.default_rng(seed).standard_normal(shape) * scale


@st.composite
def logits_and_axis(draw, min_dims=1, max_dims=3):
    shape = draw(shapes(min_dims=min_dims, max_dims=max_dims))
    ndim = max(len(shape), 1)  # a 0-d tensor accepts axis 0 or -1
    return draw(arrays(shape)), draw(st.integers(-ndim, ndim - 1))


@st.composite
def class_targets(draw, shape, axis):
    k = shape[axis]
    return draw(hnp.arrays(np.int64, without(shape, axis), elements=st.integers(0, k - 1)))


# =========================================================================== finite differences


ACTIVATIONS = {
    "sigmoid": (F.sigmoid, {}),
    "tanh": (F.tanh, {}),
    "relu": (F.relu, {"avoid": 0.0}),
    "leaky_relu": (lambda t: F.leaky_relu(t, 0.2), {"avoid": 0.0}),
}


@pytest.mark.parametrize("name", ACTIVATIONS)
@given(data=st.data())
def test_activations_gradcheck(name, data):
    fn, kw = ACTIVATIONS[name]
    check(fn, data.draw(arrays(low=-6, high=6, **kw)))


@pytest.mark.parametrize("fn", [F.softmax, F.log_softmax])
@given(za=logits_and_axis(min_dims=0))
def test_softmax_log_softmax_gradcheck(fn, za):
    z, axis = za
    check(lambda t: fn(t, axis), z)


@given(data=st.data(), reduction=REDUCTIONS, smoothing=st.sampled_from([0.0, 0.1, 1.0]))
def test_cross_entropy_class_indices_gradcheck(data, reduction, smoothing):
    z, axis = data.draw(logits_and_axis())
    y = data.draw(class_targets(z.shape, axis))
    check(lambda t: F.cross_entropy(t, y, axis=axis, reduction=reduction,
                                    label_smoothing=smoothing), z)


@given(data=st.data(), reduction=REDUCTIONS, smoothing=st.sampled_from([0.0, 0.25]))
def test_cross_entropy_probability_targets_gradcheck(data, reduction, smoothing):
    """Both the logits and a (not necessarily normalised) target that requires grad."""
    z, axis = data.draw(logits_and_axis())
    y = data.draw(arrays(z.shape, low=0.0, high=1.0))
    check(lambda t, u: F.cross_entropy(t, u, axis=axis, reduction=reduction,
                                       label_smoothing=smoothing), z, y)


POINTWISE = {
    "mse_loss": (F.mse_loss, (-3, 3), (-3, 3)),
    "binary_cross_entropy": (F.binary_cross_entropy, (0.02, 0.98), (0, 1)),
    "binary_cross_entropy_with_logits": (F.binary_cross_entropy_with_logits, (-6, 6), (0, 1)),
}


@pytest.mark.parametrize("name", POINTWISE)
@given(data=st.data(), shape=shapes(), reduction=REDUCTIONS)
def test_pointwise_losses_gradcheck(name, data, shape, reduction):
    fn, (xlo, xhi), (ylo, yhi) = POINTWISE[name]
    x, y = data.draw(arrays(shape, xlo, xhi)), data.draw(arrays(shape, ylo, yhi))
    check(lambda a, b: fn(a, b, reduction=reduction), x, y)


BN_SHAPES = st.one_of(
    st.tuples(st.integers(2, 5), st.integers(1, 4)),                       # (m, n)
    st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(2, 3)),     # (m, C, L)
    st.tuples(st.integers(1, 3), st.integers(1, 2), st.integers(1, 3), st.integers(2, 3)))


@given(shape=BN_SHAPES, seed=st.integers(0, 2**32 - 1), training=st.booleans(),
       affine=st.sampled_from(["both", "gamma", "beta", "none"]))
def test_batch_norm_gradcheck(shape, seed, training, affine):
    c = shape[1]
    x, gamma, beta = normal(seed, shape), normal(seed + 1, c), normal(seed + 2, c)
    running = (normal(seed + 3, c), np.abs(normal(seed + 4, c)) + 0.5)
    inputs = [leaf(x), leaf(gamma, affine in ("both", "gamma")),
              leaf(beta, affine in ("both", "beta"))]
    if affine == "none":
        inputs[1] = inputs[2] = None

    def fn(x_, g_, b_):
        stats = (running[0].copy(), running[1].copy()) if not training else (None, None)
        return F.batch_norm(x_, g_, b_, *stats, training=training)

    check(fn, *inputs)


@given(shape=shapes(min_dims=1), p=st.sampled_from([0.0, 0.2, 0.5, 0.9]),
       seed=st.integers(0, 100))
def test_dropout_gradcheck(shape, p, seed):
    tg.manual_seed(seed)  # gradcheck replays the generator state, so the mask is fixed
    check(lambda t: F.dropout(t, p), normal(seed, shape))


@given(batch=st.lists(st.integers(1, 3), max_size=2), n_in=st.integers(1, 4),
       n_out=st.integers(1, 4), bias=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_linear_gradcheck(batch, n_in, n_out, bias, seed):
    x, w = normal(seed, (*batch, n_in)), normal(seed + 1, (n_out, n_in))
    b = leaf(normal(seed + 2, n_out)) if bias else None
    check(lambda a, W, b_: F.linear(a, W, b_), x, w, b)


@given(batch=st.lists(st.integers(1, 3), min_size=1, max_size=2), n_out=st.integers(1, 3),
       seed=st.integers(0, 2**32 - 1), data=st.data())
def test_linear_takes_any_bias_that_broadcasts_to_the_output(batch, n_out, seed, data):
    """The documented formula x @ wᵀ + b: a (m, out) or (1, out) bias, as well as (out,)."""
    out = (*batch, n_out)
    b_shape = data.draw(hnp.broadcastable_shapes(out, max_dims=len(out)).filter(
        lambda s: np.broadcast_shapes(s, out) == out))
    x, w, b = normal(seed, (*batch, 2)), normal(seed + 1, (n_out, 2)), normal(seed + 2, b_shape)
    np.testing.assert_allclose(F.linear(x, w, b).data, x @ w.T + b)
    check(lambda a, W, b_: F.linear(a, W, b_), x, w, b)


def test_linear_refuses_a_bias_that_would_change_the_output_shape():
    x, w = np.ones((4, 2)), np.ones((3, 2))
    for b in (np.ones((2, 4, 3)), np.ones(4), np.ones((4, 1, 3))):
        with pytest.raises(ValueError, match=r"linear: bias of shape .* does not broadcast to "
                                             r"the output shape \(4, 3\)"):
            F.linear(x, w, b)


# ----------------------------------------------------------------------- empty inputs
EMPTY_SOFTMAXES = {"softmax": F.softmax, "log_softmax": F.log_softmax,
                   "logsumexp": lambda t, axis: t.logsumexp(axis)}


@pytest.mark.parametrize("op", sorted(EMPTY_SOFTMAXES))
@pytest.mark.parametrize("shape, axis", [((0,), -1), ((0, 3), -1), ((0, 3), 0), ((3, 0), 1),
                                         ((2, 0, 3), 1)])
def test_softmaxes_of_empty_inputs_are_numpys_values(op, shape, axis):
    z = leaf(np.zeros(shape))
    y = EMPTY_SOFTMAXES[op](z, axis)
    with np.errstate(divide="ignore"):  # (NumPy's own: log 0 for an empty sum)
        e = np.exp(z.data)
        expected = {"softmax": e / e.sum(axis, keepdims=True),
                    "log_softmax": z.data - np.log(e.sum(axis, keepdims=True)),
                    "logsumexp": np.log(e.sum(axis))}[op]
    np.testing.assert_array_equal(y.data, expected)  # (logsumexp of nothing: −inf)
    y.backward(np.ones(y.shape))
    np.testing.assert_array_equal(z.grad, np.zeros(shape))


@pytest.mark.parametrize("reduce", ["max", "min", "mean", "sum"])
def test_reductions_with_an_empty_other_axis(reduce):
    z = leaf(np.zeros((0, 3)))
    y = getattr(z, reduce)(axis=1)
    assert y.shape == (0,)
    y.backward(np.ones(0))
    assert z.grad.shape == (0, 3)


def test_reductions_over_an_empty_axis_give_numpys_value_or_a_clear_error():
    z = leaf(np.zeros((3, 0)))
    with pytest.raises(ValueError, match=r"max: shapes \(3, 0\).*zero-size"):
        z.max(axis=1)
    np.testing.assert_array_equal(z.sum(axis=1).data, np.zeros(3))
    np.testing.assert_array_equal(z.mean(axis=1).data, np.full(3, np.nan))  # 0/0, as NumPy


@pytest.mark.parametrize("target", ["classes", "probabilities"])
def test_cross_entropy_over_an_empty_batch(target):
    z = leaf(np.zeros((0, 3)))
    y = np.zeros(0, np.int64) if target == "classes" else np.zeros((0, 3))
    assert F.cross_entropy(z, y, reduction="none").shape == (0,)
    assert F.cross_entropy(z, y, reduction="sum").item() == 0.0
    loss = F.cross_entropy(z, y)  # the mean of no losses: 0/0 = NaN, as NumPy and PyTorch
    assert np.isnan(loss.item())
    loss.backward()
    assert z.grad.shape == (0, 3)


# =========================================================================== one node each


def _single_node_cases():
    r = np.random.default_rng(0)
    z, p = leaf(r.standard_normal((4, 3))), leaf(r.random((4, 3)))
    y_idx, y_prob = np.array([0, 2, 1, 1]), leaf(r.random((4, 3)))
    g, b = leaf(r.standard_normal(3)), leaf(r.standard_normal(3))
    x4 = leaf(r.standard_normal((2, 3, 2, 2)))
    w = leaf(r.standard_normal((5, 3)))
    return [
        ("sigmoid", F.sigmoid, (z,)), ("tanh", F.tanh, (z,)), ("relu", F.relu, (z,)),
        ("leaky_relu", F.leaky_relu, (z,)), ("softmax", F.softmax, (z,)),
        ("log_softmax", F.log_softmax, (z,)),
        ("cross_entropy", F.cross_entropy, (z, y_idx)),
        ("cross_entropy", F.cross_entropy, (z, y_prob)),
        ("mse_loss", F.mse_loss, (z, p)),
        ("binary_cross_entropy", F.binary_cross_entropy, (p, y_prob)),
        ("binary_cross_entropy_with_logits", F.binary_cross_entropy_with_logits, (z, y_prob)),
        ("batch_norm", F.batch_norm, (x4, g, b)),
        ("batch_norm", F.batch_norm, (z, None, None)),
        ("dropout", F.dropout, (z,)),
        ("linear", F.linear, (z, w, None)),
        ("linear", F.linear, (z, w, leaf(r.standard_normal(5)))),
    ]


@pytest.mark.parametrize("op,fn,inputs", _single_node_cases(),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_each_op_is_one_node_whose_parents_are_the_inputs(op, fn, inputs):
    out = fn(*inputs)
    assert out.op == op
    parents = out._ctx.parents
    assert len(parents) == len(inputs)
    for parent, given_ in zip(parents, inputs):
        if isinstance(given_, Tensor) or given_ is None:
            assert parent is given_          # the user's own tensors: no intermediate node
        else:
            assert parent.is_leaf and np.shares_memory(parent.data, given_)


@pytest.mark.parametrize("method,cls", [("sigmoid", F.Sigmoid), ("tanh", F.Tanh),
                                        ("relu", F.ReLU), ("leaky_relu", F.LeakyReLU),
                                        ("softmax", F.Softmax), ("log_softmax", F.LogSoftmax)])
def test_tensor_methods_use_the_functional_ops(method, cls):
    t = leaf([[-1.0, 0.5, 2.0]])
    out = getattr(t, method)()
    assert type(out._ctx) is cls and out._ctx.parents == (t,)
    np.testing.assert_array_equal(out.data, getattr(F, method)(t).data)


# =========================================================================== fused == composed


def composed_log_softmax(z, axis):
    return z - z.logsumexp(axis=axis, keepdims=True)


def composed_reduce(losses, reduction):
    return {"mean": losses.mean, "sum": losses.sum, "none": lambda: losses}[reduction]()


def assert_same(fused, composed, inputs):
    """Equal values and equal gradients for every input that requires grad."""
    a, b = fused(*inputs), composed(*inputs)
    np.testing.assert_allclose(a.data, b.data, rtol=1e-10, atol=1e-12)
    wanted = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    weight = np.random.default_rng(1).standard_normal(a.shape)
    ga = tg.grad((a * weight).sum(), wanted)
    gb = tg.grad((b * weight).sum(), wanted)
    for u, v in zip(ga, gb):
        np.testing.assert_allclose(u, v, rtol=1e-9, atol=1e-12)


@given(za=logits_and_axis())
def test_activations_agree_with_composition(za):
    z, axis = za
    t = leaf(z)
    assert_same(F.sigmoid, lambda u: 1 / (1 + (-u).exp()), [t])
    assert_same(F.tanh, lambda u: (u.exp() - (-u).exp()) / (u.exp() + (-u).exp()), [t])
    assert_same(lambda u: F.leaky_relu(u, 0.1), lambda u: u.maximum(u * 0.1), [leaf(z + 1e-3)])
    assert_same(lambda u: F.softmax(u, axis),
                lambda u: u.exp() / u.exp().sum(axis=axis, keepdims=True), [t])
    assert_same(lambda u: F.log_softmax(u, axis), lambda u: composed_log_softmax(u, axis), [t])


@given(data=st.data(), reduction=REDUCTIONS, smoothing=st.sampled_from([0.0, 0.3]))
def test_cross_entropy_agrees_with_composition(data, reduction, smoothing):
    z, axis = data.draw(logits_and_axis())
    k = z.shape[axis]
    idx = data.draw(class_targets(z.shape, axis))
    one_hot = np.moveaxis(np.eye(k)[idx], -1, axis)
    probs = leaf(data.draw(arrays(z.shape, 0.0, 1.0)))

    def composed(u, y):
        y = y * (1 - smoothing) + smoothing / k
        return composed_reduce(-(y * composed_log_softmax(u, axis)).sum(axis=axis), reduction)

    def fused(u, y):
        return F.cross_entropy(u, y, axis, reduction, label_smoothing=smoothing)

    assert_same(fused, composed, [leaf(z), probs])
    assert_same(lambda u: fused(u, idx), lambda u: composed(u, Tensor(one_hot)), [leaf(z)])


@given(shape=shapes(), seed=st.integers(0, 2**32 - 1), reduction=REDUCTIONS)
def test_pointwise_losses_agree_with_composition(shape, seed, reduction):
    r = np.random.default_rng(seed)
    x, a, y = leaf(r.standard_normal(shape)), leaf(r.uniform(0.05, 0.95, shape)), \
        leaf(r.random(shape))
    assert_same(lambda u, v: F.mse_loss(u, v, reduction),
                lambda u, v: composed_reduce((u - v) ** 2, reduction), [x, y])
    assert_same(lambda u, v: F.binary_cross_entropy(u, v, reduction),
                lambda u, v: composed_reduce(-(v * u.log() + (1 - v) * (1 - u).log()),
                                             reduction), [a, y])
    assert_same(lambda u, v: F.binary_cross_entropy_with_logits(u, v, reduction),
                lambda u, v: composed_reduce(-(v * u.sigmoid().log()
                                               + (1 - v) * (1 - u.sigmoid()).log()),
                                             reduction), [x, y])


def composed_batch_norm(x, gamma, beta, eps=1e-5):
    axes = (0,) + tuple(range(2, x.ndim))
    view = (1, -1) + (1,) * (x.ndim - 2)
    mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    return (x - mean) / (var + eps).sqrt() * gamma.reshape(view) + beta.reshape(view)


@given(shape=BN_SHAPES, seed=st.integers(0, 2**32 - 1))
def test_batch_norm_agrees_with_composition(shape, seed):
    c = shape[1]
    inputs = [leaf(normal(seed, shape, 3.0)), leaf(normal(seed + 1, c)),
              leaf(normal(seed + 2, c))]
    assert_same(F.batch_norm, composed_batch_norm, inputs)


@given(shape=BN_SHAPES.filter(lambda s: len(s) >= 3), seed=st.integers(0, 2**32 - 1),
       dtype=st.sampled_from([np.float32, np.float64]),
       affine=st.sampled_from(["both", "gamma", "beta", "none"]), mean=st.sampled_from([0, 50]))
def test_batch_norm_fast_path_agrees_with_plain(shape, seed, dtype, affine, mean):
    """The (N, C, L)-rows forward and backward give the plain ones' values and dtypes."""
    from tinygrad_ng.functional import normalization as N
    c = shape[1]
    x, g = (normal(seed, shape, 3.0) + mean).astype(dtype), normal(seed + 1, shape).astype(dtype)
    gamma = normal(seed + 2, c).astype(dtype) if affine in ("both", "gamma") else None
    beta = normal(seed + 3, c).astype(dtype) if affine in ("both", "beta") else None
    assert N._rows_apply(x, gamma, beta)
    x_before = x.copy()
    plain, rows = N._normalise(x, gamma, beta, 1e-5, None), N._normalise_rows(x, gamma, beta,
                                                                              1e-5, None)
    np.testing.assert_array_equal(x, x_before)
    tol = {"rtol": 1e-4, "atol": 1e-4} if dtype == np.float32 else {"rtol": 1e-9, "atol": 1e-9}
    for a, b in zip(plain, rows):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(b.reshape(a.shape), a, **tol)
    grads = [fn(g, out[1], out[2], gamma, True, True)
             for fn, out in ((N._backward_plain, plain), (N._backward_rows, rows))]
    for a, b in zip(*grads):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(b, a, **tol)


def test_batch_norm_fast_path_only_where_dtypes_match():
    from tinygrad_ng.functional import normalization as N
    x = np.zeros((2, 3, 4), np.float32)
    assert N._rows_apply(x, None, np.ones(3, np.float32))
    assert not N._rows_apply(x, np.ones(3), None)       # float64 γ: the result is float64
    assert not N._rows_apply(x[:, :, 0], None, None)    # (m, n): the plain path


@given(shape=shapes(min_dims=1), p=st.sampled_from([0.1, 0.5, 0.8]), seed=st.integers(0, 99))
def test_dropout_agrees_with_the_courses_mask(shape, p, seed):
    """d = rand < keep_prob; a = x ⊙ d / keep_prob, with rand from the library generator."""
    tg.manual_seed(seed)
    d = tg.random.generator().random(shape) < 1 - p
    x = leaf(normal(seed, shape))

    def fused(u):
        tg.manual_seed(seed)
        return F.dropout(u, p)

    assert_same(fused, lambda u: u * Tensor(d) / (1 - p), [x])


@given(batch=st.lists(st.integers(1, 3), max_size=2), seed=st.integers(0, 2**32 - 1))
def test_linear_agrees_with_composition(batch, seed):
    inputs = [leaf(normal(seed, (*batch, 3))), leaf(normal(seed + 1, (2, 3))),
              leaf(normal(seed + 2, 2))]
    assert_same(F.linear, lambda x, w, b: x @ w.T + b, inputs)
    assert_same(F.linear, lambda x, w: x @ w.T, inputs[:2])


# =========================================================================== extremes


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_tanh_softmax_finite_at_1e4(dtype):
    z = Tensor(np.array([-1e4, -100.0, 0.0, 100.0, 1e4], dtype=dtype), requires_grad=True)
    with np.errstate(**STRICT):
        for fn in (F.sigmoid, F.tanh, F.softmax, F.log_softmax):
            out = fn(z)
            out.backward(np.ones(5, dtype), retain_graph=False)
            assert out.dtype == dtype and np.isfinite(out.data).all()
            assert np.isfinite(z.grad).all()
            z.grad = None
        a = F.sigmoid(z)
    np.testing.assert_array_equal(a.data[[0, 2, 4]], [0.0, 0.5, 1.0])


@given(z=hnp.arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(2, 5)),
                    elements=st.floats(-1e4, 1e4)), data=st.data())
def test_cross_entropy_extreme_logits_finite_with_exact_gradient(z, data):
    y = data.draw(hnp.arrays(np.int64, z.shape[0], elements=st.integers(0, z.shape[1] - 1)))
    t = leaf(z)
    with np.errstate(**STRICT):
        loss = F.cross_entropy(t, y)
        loss.backward()
        e = np.exp(z - z.max(axis=1, keepdims=True))
    softmax = e / e.sum(axis=1, keepdims=True)
    assert np.isfinite(loss.item())
    np.testing.assert_allclose(t.grad, (softmax - np.eye(z.shape[1])[y]) / z.shape[0],
                               atol=1e-12)


EXTREME = hnp.arrays(np.float64, shapes(min_dims=1), elements=st.floats(-1e4, 1e4))


@given(z=EXTREME, dtype=st.sampled_from([np.float32, np.float64]))
def test_activations_and_logit_loss_stay_finite_for_huge_inputs(z, dtype):
    t = Tensor(z.astype(dtype), requires_grad=True)
    y = (z > 0).astype(dtype)
    with np.errstate(**STRICT):
        a = F.sigmoid(t)
        for out in (a, F.tanh(t), F.softmax(t), F.log_softmax(t),
                    F.binary_cross_entropy_with_logits(t, y, reduction="none")):
            assert np.isfinite(out.data).all()
            t.grad = None
            out.backward(np.ones(out.shape, dtype))
            assert np.isfinite(t.grad).all()
    assert ((a.data >= 0) & (a.data <= 1)).all()


def test_batch_norm_constant_channel_stays_finite():
    x = leaf(np.stack([np.full(4, 1e4), np.arange(4.0)], axis=1))  # channel 0 has σ² = 0
    with np.errstate(**STRICT):
        out = F.batch_norm(x, leaf([2.0, 1.0]), leaf([0.5, 0.0]))
        out.backward(normal(0, (4, 2)))
    np.testing.assert_allclose(out.data[:, 0], 0.5)  # z_norm = 0, so z̃ = β
    assert np.isfinite(x.grad).all()


def test_cross_entropy_at_1e4_by_hand():
    t = Tensor(np.array([[1e4, -1e4, 0.0], [1e4, -1e4, 0.0]], np.float32), requires_grad=True)
    with np.errstate(**STRICT):
        loss = F.cross_entropy(t, np.array([0, 1]))
        loss.backward()
    assert loss.item() == pytest.approx(1e4)         # (0 + 2e4)/2
    np.testing.assert_allclose(t.grad, [[0, 0, 0], [0.5, -0.5, 0]], atol=1e-7)


def test_binary_losses_at_the_extremes_follow_pytorch():
    z = leaf([-1e4, 1e4, -1e4, 1e4])
    y = leaf([1.0, 0.0, 0.0, 1.0], requires_grad=False)
    with np.errstate(**STRICT):
        loss = F.binary_cross_entropy_with_logits(z, y, reduction="none")
        loss.sum().backward()
        a = leaf([0.0, 1.0, 0.0, 1.0])
        bce = F.binary_cross_entropy(a, y, reduction="none")
        bce.sum().backward()
    np.testing.assert_array_equal(loss.data, [1e4, 1e4, 0, 0])
    np.testing.assert_array_equal(z.grad, [-1, 1, 0, 0])  # σ(z) − y
    np.testing.assert_array_equal(bce.data, [100, 100, 0, 0])  # logs floored at −100
    np.testing.assert_allclose(a.grad, [-1e12, 1e12, 0, 0])  # (a − y)/max(a(1 − a), 1e-12)


def test_relu_gradient_at_zero_is_zero_and_leaky_gets_the_slope():
    t = leaf([-1.0, 0.0, 2.0])
    F.relu(t).sum().backward()
    np.testing.assert_array_equal(t.grad, [0, 0, 1])
    t.grad = None
    F.leaky_relu(t, 0.3).sum().backward()
    np.testing.assert_allclose(t.grad, [0.3, 0.3, 1])


# =========================================================================== semantics


def test_course_softmax_example():
    s = F.softmax(Tensor([5.0, 2.0, -1.0, 3.0]))
    np.testing.assert_allclose(s.data, [0.842, 0.042, 0.002, 0.114], atol=1e-3)


def test_label_smoothing_matches_pytorch_formula():
    z = np.array([[2.0, -1.0, 0.5], [0.1, 0.2, 0.3]])
    y, eps = np.array([0, 2]), 0.2
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    expected = ((1 - eps) * -logp[[0, 1], y] + eps * -logp.mean(axis=1)).mean()
    assert F.cross_entropy(z, y, label_smoothing=eps).item() == pytest.approx(expected)


def test_cross_entropy_unbatched_and_other_axis():
    z = np.array([[[1.0, 2.0], [0.0, 1.0], [3.0, -1.0]]])  # (m=1, K=3, L=2), classes on axis 1
    y = np.array([[2, 0]])
    out = F.cross_entropy(z, y, axis=1, reduction="none")
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(out.data, [[-logp[0, 2, 0], -logp[0, 0, 1]]])
    single = F.cross_entropy(z[0, :, 0], np.int64(2), reduction="none")
    assert single.shape == () and single.item() == pytest.approx(out.data[0, 0])


@pytest.mark.parametrize("fn,args", [
    (F.sigmoid, ()), (F.softmax, ()), (F.dropout, (0.5,)), (F.mse_loss, ("y",)),
    (F.cross_entropy, ("idx",)), (F.binary_cross_entropy_with_logits, ("y",)),
    (F.batch_norm, ("g", "b"))])
def test_float32_stays_float32(fn, args):
    x = Tensor(np.random.default_rng(0).random((4, 3)).astype(np.float32), requires_grad=True)
    extra = {"y": np.ones((4, 3)), "idx": np.array([0, 1, 2, 0]),
             "g": Tensor(np.ones(3, np.float32), requires_grad=True),
             "b": Tensor(np.zeros(3, np.float32))}
    out = fn(x, *(extra.get(a, a) for a in args))
    assert out.dtype == np.float32
    out.sum().backward()
    assert x.grad.dtype == np.float32


def test_integer_inputs_become_float_except_relu():
    assert F.sigmoid([0, 1]).dtype == tg.get_default_dtype()
    assert F.relu(Tensor([-1, 2])).dtype == np.int64
    assert F.binary_cross_entropy_with_logits([0.0, 1.0], np.array([0, 1])).dtype == np.float32


def bn_reference(x, axes):
    """Batch statistics in NumPy: mean, biased variance, unbiased variance, count."""
    n = x.size // x.shape[1]
    mean, var = x.mean(axis=axes), x.var(axis=axes)
    return mean, var, var * n / (n - 1)


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5), (2, 3, 4, 4)])
def test_batch_norm_running_statistics_as_pytorch(shape):
    r = np.random.default_rng(0)
    axes = (0,) + tuple(range(2, len(shape)))
    running_mean, running_var = np.zeros(3), np.ones(3)
    ids = (id(running_mean), id(running_var))
    expected_mean, expected_var = np.zeros(3), np.ones(3)
    for step in range(3):
        x = r.standard_normal(shape) * (step + 1) + step
        out = F.batch_norm(x, None, None, running_mean, running_var, momentum=0.3)
        mean, var, unbiased = bn_reference(x, axes)
        expected_mean = 0.7 * expected_mean + 0.3 * mean
        expected_var = 0.7 * expected_var + 0.3 * unbiased
        view = (1, -1) + (1,) * (len(shape) - 2)
        np.testing.assert_allclose(out.data, (x - mean.reshape(view))
                                   / np.sqrt(var.reshape(view) + 1e-5))
    np.testing.assert_allclose(running_mean, expected_mean)
    np.testing.assert_allclose(running_var, expected_var)
    assert (id(running_mean), id(running_var)) == ids  # updated in place

    x = r.standard_normal(shape)
    gamma, beta = np.array([1.0, 2.0, 0.5]), np.array([0.0, -1.0, 3.0])
    out = F.batch_norm(x, gamma, beta, running_mean, running_var, training=False)
    view = (1, -1) + (1,) * (len(shape) - 2)
    expected = ((x - expected_mean.reshape(view)) / np.sqrt(expected_var.reshape(view) + 1e-5)
                * gamma.reshape(view) + beta.reshape(view))
    np.testing.assert_allclose(out.data, expected)
    np.testing.assert_allclose(running_mean, expected_mean)  # eval mode leaves them alone


def test_batch_norm_running_stats_as_tensors_and_eval_gradient():
    running_mean, running_var = tg.zeros(2, dtype=np.float64), tg.ones(2, dtype=np.float64)
    buffer = running_mean.data
    x = np.array([[1.0, 10.0], [3.0, 20.0]])
    F.batch_norm(x, None, None, running_mean, running_var, momentum=0.5)
    assert running_mean.data is buffer
    np.testing.assert_allclose(running_mean.data, [1.0, 7.5])
    np.testing.assert_allclose(running_var.data, [0.5 + 0.5 * 2.0, 0.5 + 0.5 * 50.0])
    t, gamma = leaf(x), leaf([2.0, 3.0])
    F.batch_norm(t, gamma, None, running_mean, running_var, training=False).sum().backward()
    np.testing.assert_allclose(t.grad, np.broadcast_to(
        gamma.data / np.sqrt(running_var.data + 1e-5), (2, 2)))


def test_batch_norm_training_gradient_to_x_sums_to_zero_per_channel():
    """Shifting a whole channel changes nothing after normalisation: Σ dz = 0."""
    x = leaf(normal(0, (5, 3, 2)))
    (F.batch_norm(x, leaf(normal(1, 3)), None) * leaf(normal(2, (5, 3, 2)))).sum().backward()
    np.testing.assert_allclose(x.grad.sum(axis=(0, 2)), 0, atol=1e-12)


def test_batch_norm_no_grad_still_updates_running_stats():
    running_mean, running_var = np.zeros(2), np.ones(2)
    with tg.no_grad():
        out = F.batch_norm(leaf([[0.0, 2.0], [2.0, 4.0]]), None, None, running_mean,
                           running_var, momentum=1.0)
    assert not out.requires_grad
    np.testing.assert_allclose(running_mean, [1.0, 3.0])
    np.testing.assert_allclose(running_var, [2.0, 2.0])


def test_dropout_statistics():
    x = tg.ones(400, 500)
    tg.manual_seed(123)
    out = F.dropout(x, p=0.3)
    kept = out.data != 0
    assert abs(kept.mean() - 0.7) < 0.005                     # ≈ keep_prob (σ ≈ 0.0007)
    np.testing.assert_allclose(out.data[kept], 1 / 0.7, rtol=1e-6)  # inverted scaling
    assert abs(out.data.mean() - 1.0) < 0.01                  # expectation preserved


def test_dropout_is_reproducible_under_manual_seed():
    x = tg.randn(50, 40)
    tg.manual_seed(7)
    a = F.dropout(x, 0.5).data
    b = F.dropout(x, 0.5).data
    tg.manual_seed(7)
    np.testing.assert_array_equal(F.dropout(x, 0.5).data, a)
    assert not np.array_equal(a, b)


def test_dropout_identity_in_eval_and_p0_and_zeros_at_p1():
    x = leaf(normal(0, (3, 4)))
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    with np.errstate(**STRICT):
        out = F.dropout(x, 1.0)
        out.sum().backward()
    np.testing.assert_array_equal(out.data, 0)
    np.testing.assert_array_equal(x.grad, 0)


def test_dropout_backward_uses_the_same_mask():
    x = leaf(normal(0, (20, 20)))
    out = F.dropout(x, 0.4)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad != 0, out.data != 0)
    np.testing.assert_allclose(x.grad[x.grad != 0], 1 / 0.6)


# =========================================================================== errors


def test_out_of_range_class_index_is_named():
    z = np.zeros((3, 4))
    with pytest.raises(IndexError, match=r"cross_entropy: class index 7 .* 4 classes"):
        F.cross_entropy(z, np.array([0, 7, 1]))
    with pytest.raises(IndexError, match="class index -1"):
        F.cross_entropy(z, Tensor([0, -1, 1]))


@given(dtype=st.sampled_from([np.int8, np.uint8, np.int16, np.uint16, np.int32, np.int64]),
       k=st.sampled_from([1, 2, 10, 127, 128, 129, 255, 256, 300]), data=st.data())
def test_class_index_range_check_is_exact_for_every_integer_dtype(dtype, k, data):
    info = np.iinfo(dtype)
    labels = np.array(data.draw(st.lists(st.integers(max(info.min, -k - 2), min(info.max, k + 2)),
                                         min_size=1, max_size=6)), dtype=dtype)
    z = np.zeros((labels.size, k))
    if ((labels < 0) | (labels >= k)).any():
        with pytest.raises(IndexError, match="class index -?[0-9]+ is out of range"):
            F.cross_entropy(z, labels)
    else:
        np.testing.assert_allclose(F.cross_entropy(z, labels).item(), np.log(k), rtol=1e-12)


@pytest.mark.parametrize("call,match", [
    (lambda: F.cross_entropy(np.zeros((3, 4)), np.array([0, 1])),
     r"class-index target of shape \(2,\) .* \(3,\)"),
    (lambda: F.cross_entropy(np.zeros((3, 4)), np.zeros((3, 4), np.int64)),
     "one-hot targets must be floats"),
    (lambda: F.cross_entropy(np.zeros((3, 4)), np.zeros(3)), "class indices must be integers"),
    (lambda: F.cross_entropy(np.zeros((3, 4)), np.array([0, 1, 2]), reduction="avg"),
     "reduction must be"),
    (lambda: F.cross_entropy(np.zeros((3, 4)), np.array([0, 1, 2]), label_smoothing=1.5),
     "label_smoothing"),
    (lambda: F.cross_entropy(np.zeros((3, 4)), np.array([0, 1, 2]), axis=2), "axis 2"),
    (lambda: F.cross_entropy(np.float64(1.0), np.int64(0)), "at least one axis"),
    (lambda: F.mse_loss(np.zeros((4, 1)), np.zeros(4)), r"mse_loss: .*\(4, 1\) and \(4,\)"),
    (lambda: F.binary_cross_entropy(np.array([0.5, 1.2]), np.ones(2)), r"\[0, 1\]"),
    (lambda: F.binary_cross_entropy_with_logits(np.zeros(3), np.ones(2)),
     "binary_cross_entropy_with_logits"),
    (lambda: F.batch_norm(np.zeros((4, 3)), np.ones(2)),
     r"batch_norm: gamma has shape \(2,\) .* \(4, 3\) has 3 channels"),
    (lambda: F.batch_norm(np.zeros((4, 3, 5)), None, None, np.zeros(5), np.ones(5)),
     r"batch_norm: running_mean has shape \(5,\)"),
    (lambda: F.batch_norm(np.zeros((4, 3)), training=False), "evaluation mode"),
    (lambda: F.batch_norm(np.zeros((4, 3)), None, None, np.zeros(3)), "both"),
    (lambda: F.batch_norm(np.zeros((1, 3))), "more than one value per channel"),
    (lambda: F.batch_norm(np.zeros(3)), r"batch_norm: .* got \(3,\)"),
    (lambda: F.dropout(np.zeros(3), p=1.5), r"dropout: p .* 1\.5"),
    (lambda: F.dropout(np.zeros(3), p=-0.1), "dropout"),
    (lambda: F.linear(np.zeros((2, 3)), np.zeros((4, 2))),
     r"linear: x of shape \(2, 3\) and weight of shape \(4, 2\)"),
    (lambda: F.linear(np.zeros((2, 3)), np.zeros((4, 3)), np.zeros(3)),
     r"linear: bias of shape \(3,\)"),
    (lambda: F.softmax(np.zeros((2, 3)), axis=-3), "softmax: axis -3"),
])
def test_bad_input_gives_a_clear_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_nan_probabilities_and_boolean_p_are_refused():
    with pytest.raises(ValueError, match="binary_cross_entropy"):
        F.binary_cross_entropy(tg.Tensor([np.nan, 0.5]), np.ones(2, np.float32))
    with pytest.raises(ValueError, match="dropout"):
        F.dropout(tg.ones(3), p=True)


def test_batch_norm_eval_keeps_float32_with_float64_running_stats():
    x = tg.randn(4, 3)
    out = F.batch_norm(x, None, None, np.zeros(3), np.ones(3), training=False)
    assert out.dtype == np.float32
