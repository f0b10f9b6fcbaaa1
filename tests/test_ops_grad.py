"""Every differentiable Tensor op against centred finite differences in float64.

Shapes are drawn at random, with broadcasting on both sides for binary ops; values avoid
the kinks where a finite difference is meaningless (ties, 0 for abs/relu), which are tested
exactly in test_edges.py.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_ng as tg
from tinygrad_ng.testing.strategies import arrays, axes, broadcastable_shapes, shapes


def check(fn, *arrays_):
    """gradcheck ``fn`` on float64 tensors that require grad."""
    ts = [tg.Tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays_]
    assert tg.gradcheck(fn, ts)


def pair(low=-3.0, high=3.0, **kw):
    """Two arrays of mutually broadcastable shapes."""
    return broadcastable_shapes(2).flatmap(
        lambda s: st.tuples(arrays(s[0], low, high, **kw), arrays(s[1], low, high, **kw)))


# ------------------------------------------------------------------ binary, with broadcasting
BINARY = {
    "add": (lambda a, b: a + b, {}),
    "sub": (lambda a, b: a - b, {}),
    "mul": (lambda a, b: a * b, {}),
    "div": (lambda a, b: a / b, {"low": 0.5, "high": 3.0}),
    "pow": (lambda a, b: a ** b, {"low": 0.5, "high": 2.0}),
    "scalar_operands": (lambda a, b: (a * 2.0) - (3.0 / (b * b + 1)), {}),
}


@pytest.mark.parametrize("name", BINARY)
@given(data=st.data())
def test_binary_ops(name, data):
    fn, kw = BINARY[name]
    a, b = data.draw(pair(**kw))
    check(fn, a, b)


@given(pair(low=-3, high=3))
def test_maximum_minimum(ab):
    a, b = ab
    b = np.where(np.abs(a - b) < 1e-3, b + 0.5, b)  # ties are tested exactly elsewhere
    check(lambda x, y: x.maximum(y), a, b)
    check(lambda x, y: x.minimum(y), a, b)


@given(arrays(low=0.5, high=2.0), st.floats(-2.5, 2.5))
def test_pow_scalar_exponent_and_base(x, c):
    check(lambda t: t ** c, x)
    check(lambda t: 2.5 ** t, x)


@given(data=st.data())
def test_reflected_ops_with_arrays(data):
    a, b = data.draw(pair(low=0.5, high=2.0))
    check(lambda t: b + t, a)
    check(lambda t: b - t, a)
    check(lambda t: b * t, a)
    check(lambda t: b / t, a)
    check(lambda t: b ** t, a)


@given(data=st.data())
def test_where(data):
    a, b = data.draw(pair())
    cond = data.draw(arrays(np.broadcast_shapes(a.shape, b.shape), dtype=np.float64)) > 0
    check(lambda x, y: tg.where(cond, x, y), a, b)


# ------------------------------------------------------------------ matmul
@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), st.data())
def test_matmul_2d(m, k, n, data):
    check(lambda a, b: a @ b, data.draw(arrays((m, k))), data.draw(arrays((k, n))))


@given(st.integers(1, 4), st.integers(1, 4), st.data())
def test_matmul_1d_operands(k, n, data):
    v, w = data.draw(arrays((k,))), data.draw(arrays((k,)))
    M = data.draw(arrays((k, n)))
    check(lambda a, b: a @ b, v, w)      # dot product
    check(lambda a, b: a @ b, v, M)      # vector @ matrix
    check(lambda a, b: a @ b, M.T, v)    # matrix @ vector


@given(st.data())
def test_matmul_batched_broadcast(data):
    k, n, m = (data.draw(st.integers(1, 3)) for _ in range(3))
    batch_a, batch_b = data.draw(broadcastable_shapes(2, max_dims=2, max_side=3))
    a = data.draw(arrays(batch_a + (m, k)))
    b = data.draw(arrays(batch_b + (k, n)))
    check(lambda x, y: x @ y, a, b)
    v = data.draw(arrays((k,)))
    check(lambda x, y: x @ y, v, b)  # 1-D against a batch


# ------------------------------------------------------------------ unary
UNARY = {
    "neg": (lambda t: -t, {}),
    "exp": (lambda t: t.exp(), {}),
    "log": (lambda t: t.log(), {"low": 0.1, "high": 5.0}),
    "sqrt": (lambda t: t.sqrt(), {"low": 0.1, "high": 5.0}),
    "abs": (lambda t: t.abs(), {"avoid": 0.0}),
    "square": (lambda t: t.square(), {}),
    "sigmoid": (lambda t: t.sigmoid(), {"low": -8, "high": 8}),
    "tanh": (lambda t: t.tanh(), {}),
    "relu": (lambda t: t.relu(), {"avoid": 0.0}),
    "leaky_relu": (lambda t: t.leaky_relu(0.1), {"avoid": 0.0}),
    "clip": (lambda t: t.clip(-1.0, 1.5), {"avoid": -1.0}),
    "clip_upper": (lambda t: t.clip(max=1.5), {"avoid": 1.5}),
    "astype": (lambda t: t.astype(np.float32).astype(np.float64) * 1.0, {}),
}


@pytest.mark.parametrize("name", UNARY)
@given(data=st.data())
def test_unary_ops(name, data):
    fn, kw = UNARY[name]
    x = data.draw(arrays(**kw))
    if name.startswith("clip"):
        x = np.where(np.abs(x - 1.5) < 1e-3, x + 0.01, x)
    if name == "astype":  # float32 round trip: compare with a float32-sized tolerance
        t = tg.Tensor(x, requires_grad=True)
        fn(t).sum().backward()
        np.testing.assert_allclose(t.grad, np.ones_like(x))
        return
    check(fn, x)


# ------------------------------------------------------------------ reductions
def distinct(shape):
    """Arrays without ties (a permutation of spaced values), so max/min have one winner."""
    n = int(np.prod(shape))
    return st.permutations(list(np.linspace(-2, 2, n))).map(
        lambda v: np.array(v, dtype=np.float64).reshape(shape))


@pytest.mark.parametrize("op", ["sum", "mean", "var", "var1", "max", "min", "logsumexp"])
@given(data=st.data(), keepdims=st.booleans())
def test_reductions(op, data, keepdims):
    shape = data.draw(shapes(min_dims=1, max_dims=3))
    axis = data.draw(axes(len(shape)))
    x = data.draw(distinct(shape) if op in ("max", "min") else arrays(shape))
    if op == "var1":
        n = int(np.prod(shape)) if axis is None else int(
            np.prod([shape[a] for a in np.atleast_1d(axis)]))
        if n < 2:
            return
        check(lambda t: t.var(axis=axis, keepdims=keepdims, ddof=1), x)
        return
    check(lambda t: getattr(t, op)(axis=axis, keepdims=keepdims), x)


@given(arrays(shapes(min_dims=1)), st.data())
def test_softmax_and_log_softmax(x, data):
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    check(lambda t: t.softmax(axis), x)
    check(lambda t: t.log_softmax(axis), x)


# ------------------------------------------------------------------ shape ops
@given(arrays(shapes(min_dims=1)))
def test_reshape_transpose_flatten(x):
    check(lambda t: t.reshape(-1) * 2, x)
    check(lambda t: t.reshape((x.size, 1)), x)
    check(lambda t: t.T, x)
    check(lambda t: t.transpose(*reversed(range(x.ndim))), x)
    check(lambda t: t.flatten(), x)
    check(lambda t: t.flatten(x.ndim - 1), x)


@given(arrays(shapes(min_dims=1)), st.data())
def test_squeeze_unsqueeze_broadcast_to(x, data):
    axis = data.draw(st.integers(-x.ndim - 1, x.ndim))
    check(lambda t: t.unsqueeze(axis), x)
    check(lambda t: t.unsqueeze(axis).squeeze(axis), x)
    check(lambda t: t.squeeze(), x)
    check(lambda t: t.broadcast_to((2,) + x.shape), x)


@given(arrays(shapes(min_dims=2, max_dims=3, min_side=2)), st.data())
def test_basic_indexing(x, data):
    check(lambda t: t[0], x)
    check(lambda t: t[::-1], x)
    check(lambda t: t[1:, ::-2], x)
    check(lambda t: t[None, ..., -1], x)
    check(lambda t: t[..., None, 0:1], x)


@given(arrays(shapes(min_dims=1, max_dims=2, min_side=2)), st.data())
def test_advanced_indexing_with_repeats(x, data):
    n = x.shape[0]
    idx = np.array(data.draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=6)))
    check(lambda t: t[idx], x)                      # repeated rows accumulate
    check(lambda t: t[tg.Tensor(idx)], x)           # a Tensor index works the same
    mask = data.draw(arrays(x.shape)) > 0
    check(lambda t: t[mask] * 3, x)
    if x.ndim == 2:
        cols = np.array(data.draw(st.lists(st.integers(0, x.shape[1] - 1), min_size=len(idx),
                                           max_size=len(idx))))
        check(lambda t: t[idx, cols], x)


@given(st.data())
def test_concatenate_and_stack(data):
    shape = data.draw(shapes(min_dims=1, max_dims=3))
    axis = data.draw(st.integers(0, len(shape) - 1))
    other = list(shape)
    other[axis] = data.draw(st.integers(1, 3))
    a, b = data.draw(arrays(shape)), data.draw(arrays(tuple(other)))
    check(lambda x, y: tg.concatenate([x, y, x], axis=axis), a, b)
    c = data.draw(arrays(shape))
    stack_axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    check(lambda x, y: tg.stack([x, y], axis=stack_axis), a, c)


@given(st.lists(arrays(shapes(max_dims=3)), min_size=1, max_size=3))
def test_concatenate_with_axis_none_flattens_like_numpy(parts):
    ts = [tg.Tensor(p, requires_grad=True) for p in parts]
    np.testing.assert_array_equal(tg.concatenate(ts, axis=None).data,
                                  np.concatenate(parts, axis=None))
    check(lambda *xs: tg.concatenate(list(xs), axis=None), *parts)


@given(arrays(shapes(min_dims=1, max_dims=2)), st.integers(0, 2),
       st.sampled_from(["array", "list"]))
def test_concatenate_and_stack_mix_tensors_arrays_and_lists_in_any_order(x, where, kind):
    """The tensor's place among constants (arrays or nested lists) does not matter."""
    tg.set_default_dtype(np.float64)  # (lists of Python floats: the default float dtype)
    const = x + 1.0 if kind == "array" else (x + 1.0).tolist()
    for join in (tg.concatenate, tg.stack):
        parts = [const, const]
        parts.insert(where, tg.Tensor(x))
        expected = getattr(np, join.__name__)([np.asarray(p.data if isinstance(p, tg.Tensor)
                                                          else p) for p in parts])
        np.testing.assert_array_equal(join(parts).data, expected)

        def fn(t, join=join):
            inputs = [const, const]
            inputs.insert(where, t)
            return join(inputs)

        check(fn, x)


@given(arrays(shapes(min_dims=1, max_dims=3)))
def test_an_empty_index_list_selects_nothing(x):
    t = tg.Tensor(x, requires_grad=True)
    y = t[[]]
    assert y.shape == x[[]].shape == (0,) + x.shape[1:]
    y.sum().backward()
    np.testing.assert_array_equal(t.grad, np.zeros_like(x))
    if x.ndim > 1:
        assert t[[], 0].shape == x[[], 0].shape


# ------------------------------------------------------------------ compositions
@given(pair(low=-2, high=2))
def test_shared_subexpressions(ab):
    """A value feeding several ops receives the sum of every path's gradient."""
    a, b = ab
    check(lambda x, y: (x * y + x).tanh() * x - (y * y).exp() / (x * x + 1), a, b)
