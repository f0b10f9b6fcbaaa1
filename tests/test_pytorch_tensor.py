"""PyTorch's spellings on Tensor: keywords, the methods users type, in-place updates, and the
places where NumPy's and PyTorch's readings of one spelling differ (each side tested)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_ng as tg
from tinygrad_ng import Tensor
from tinygrad_ng.testing.strategies import arrays, shapes


def check(fn, *arrays_):
    ts = [Tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays_]
    assert tg.gradcheck(fn, ts)


X = np.arange(24, dtype=np.float64).reshape(2, 3, 4) % 7 - 3  # ties included


def distinct(x):
    """``x`` made tie-free: its ranks (spaced 0.3 apart) plus a little of itself."""
    ranks = np.argsort(np.argsort(x.ravel(), kind="stable")).reshape(x.shape)
    return ranks * 0.3 + x * 0.01


# ------------------------------------------------------------------ keywords
@pytest.mark.parametrize("op", ["sum", "mean", "logsumexp"])
def test_dim_and_keepdim_beside_axis_and_keepdims(op):
    t = Tensor(X)
    for d in (0, -1, (0, 2)):
        ref = getattr(t, op)(axis=d, keepdims=True).data
        np.testing.assert_array_equal(getattr(t, op)(dim=d, keepdim=True).data, ref)
        np.testing.assert_array_equal(getattr(tg, op)(t, dim=d, keepdim=True).data, ref)
    with pytest.raises(TypeError, match=f"{op}: got both axis= .* and dim="):
        getattr(t, op)(axis=0, dim=0)
    with pytest.raises(TypeError, match=f"{op}: got both keepdims= .* and keepdim="):
        getattr(t, op)(0, keepdims=True, keepdim=True)


def test_shape_ops_take_pytorch_keywords():
    t = Tensor(X)
    assert t.flatten(start_dim=1).shape == (2, 12) and t.flatten(0, 1).shape == (6, 4)
    assert t.flatten(end_dim=1).shape == (6, 4) and Tensor(2.0).flatten().shape == (1,)
    assert t.unsqueeze(dim=1).shape == (2, 1, 3, 4)
    assert t[:, :1].squeeze(dim=1).shape == (2, 4)
    assert t.squeeze(dim=0).shape == (2, 3, 4)  # PyTorch: a dim of length ≠ 1 is left alone
    with pytest.raises(ValueError, match=r"squeeze: axis 0 .* leaves such an axis alone"):
        t.squeeze(0)  # NumPy's reading: an error
    assert tg.stack([t, t], dim=1).shape == (2, 2, 3, 4)
    assert tg.cat([t, t], dim=2).shape == (2, 3, 8) and tg.concatenate([t], dim=0).shape == \
        (2, 3, 4)
    np.testing.assert_allclose(t.softmax(dim=1).data, t.softmax(axis=1).data)
    np.testing.assert_allclose(tg.functional.log_softmax(t, dim=0).data,
                               t.log_softmax(0).data)


def test_softmax_over_several_axes_or_all():
    t = Tensor(X)
    s = t.softmax(axis=(1, 2))
    np.testing.assert_allclose(s.sum(axis=(1, 2)).data, [1, 1])
    e = np.exp(X - X.max())
    np.testing.assert_allclose(t.softmax(axis=None).data, e / e.sum())
    np.testing.assert_allclose(t.log_softmax(dim=(0, 2)).data,
                               np.log(np.exp(X) / np.exp(X).sum(axis=(0, 2), keepdims=True)))
    check(lambda z: z.softmax(axis=(0, 2)), X / 3)
    check(lambda z: z.log_softmax(axis=None), X / 3)


# ------------------------------------------------------------------ max / min
def test_max_min_dim_return_values_and_indices():
    t = Tensor(X, requires_grad=True)
    for op, arg in (("max", np.argmax), ("min", np.argmin)):
        out = getattr(t, op)(dim=1)
        assert isinstance(out, tg.ValuesIndices)
        values, indices = out  # unpacks, and has the names
        np.testing.assert_array_equal(values.data, getattr(X, op)(axis=1))
        np.testing.assert_array_equal(indices.data, arg(X, axis=1))
        assert out.indices.dtype == np.int64 and out.values is values
        kept = getattr(t, op)(1, keepdim=True)  # positional = PyTorch's reading
        assert kept.values.shape == (2, 1, 4) and kept.indices.shape == (2, 1, 4)
        assert getattr(t, op)(axis=1).shape == (2, 4)  # axis= is NumPy's: the values
        assert isinstance(getattr(tg, op)(t, 1), tg.ValuesIndices)


def test_max_dim_sends_the_gradient_to_the_first_maximum_as_pytorch():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    t = Tensor(x, requires_grad=True)
    t.max(dim=1).values.sum().backward()
    np.testing.assert_array_equal(t.grad, [[0, 1, 0], [1, 0, 0]])
    t.grad = None
    t.max(axis=1).sum().backward()  # NumPy-style reduction: ties share it
    np.testing.assert_allclose(t.grad, [[0, .5, .5], [1 / 3, 1 / 3, 1 / 3]])


def test_numpy_reading_of_positional_max_fails_loudly():
    out = Tensor(X).max(1)
    with pytest.raises(AttributeError, match=r"named tuple \(values, indices\).*axis="):
        out.sum()
    with pytest.raises(TypeError, match=r"max: dim must be an int.*axis=\(0, 1\)"):
        Tensor(X).max((0, 1))
    with pytest.raises(TypeError, match="max: got both dim"):
        Tensor(X).max(1, axis=1)


def test_max_min_of_two_tensors_and_of_0d():
    a, b = Tensor([1.0, 5.0]), Tensor([3.0, 2.0])
    np.testing.assert_array_equal(a.max(b).data, [3, 5])
    np.testing.assert_array_equal(tg.min(a, b).data, [1, 2])
    v, i = Tensor(4.0).max(0)
    assert v.item() == 4 and i.item() == 0 and v.shape == ()


@given(data=st.data())
def test_max_min_dim_gradients(data):
    x = distinct(data.draw(arrays(shapes(min_dims=1), -3, 3)))
    d = data.draw(st.integers(-x.ndim, x.ndim - 1))
    check(lambda t: t.max(d).values, x)
    check(lambda t: t.min(dim=d, keepdim=True).values, x)


# ------------------------------------------------------------------ var / std
def test_var_std_numpy_and_pytorch_readings():
    t = Tensor(X)
    np.testing.assert_allclose(t.var(axis=1).data, X.var(axis=1))  # NumPy: ddof 0
    np.testing.assert_allclose(t.var(dim=1).data, X.var(axis=1, ddof=1))  # PyTorch: n − 1
    np.testing.assert_allclose(t.std(dim=(0, 2), keepdim=True).data,
                               X.std(axis=(0, 2), ddof=1, keepdims=True))
    np.testing.assert_allclose(t.std(dim=1, unbiased=False).data, X.std(axis=1))
    np.testing.assert_allclose(t.var(dim=1, correction=0).data, X.var(axis=1))
    np.testing.assert_allclose(t.var(axis=1, ddof=2).data, X.var(axis=1, ddof=2))
    np.testing.assert_allclose(t.var(1, ddof=1).data, X.var(axis=1, ddof=1))
    np.testing.assert_allclose(t.var().data, X.var())  # bare: NumPy's (the API contract)
    np.testing.assert_allclose(t.std(unbiased=True).data, X.std(ddof=1))
    np.testing.assert_allclose(tg.std(t, dim=2).data, X.std(axis=2, ddof=1))
    with pytest.raises(TypeError, match=r"var: x.var\(1\) divides by n in NumPy and by n − 1"):
        t.var(1)
    with pytest.raises(TypeError, match=r"std: x.std\(0\)"):
        t.std(0)
    with pytest.raises(TypeError, match="var: the second positional argument"):
        t.var(1, True)
    with pytest.raises(TypeError, match="give one of ddof=, correction= and unbiased="):
        t.var(dim=1, ddof=1, correction=1)
    check(lambda s: s.std(dim=1), X + np.linspace(0, 1, 24).reshape(2, 3, 4))


# ------------------------------------------------------------------ transpose and size
def test_two_axis_transpose_swaps_as_pytorch():
    m = Tensor(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(m.transpose(0, 1).data, m.data.T)  # PyTorch: a swap
    np.testing.assert_array_equal(m.transpose(1, 0).data, m.data.T)  # NumPy agrees here
    np.testing.assert_array_equal(m.transpose(-1, -2).data, m.data.T)
    t = Tensor(X)
    assert t.transpose(0, 2).shape == (4, 3, 2) and t.transpose(1, 2).shape == (2, 4, 3)
    assert t.transpose(2, 0, 1).shape == (4, 2, 3)  # three axes: NumPy's permutation
    assert t.transpose().shape == (4, 3, 2)
    assert Tensor([1.0, 2.0]).transpose(0, -1).shape == (2,)  # 1-d: a swap with itself
    with pytest.raises(ValueError, match="transpose: axis 1 is out of range"):
        Tensor([1.0, 2.0]).transpose(0, 1)
    assert t.swapaxes(0, 1).shape == t.swapdims(0, 1).shape == (3, 2, 4)
    assert t.permute(2, 0, 1).shape == (4, 2, 3) and t.permute((1, 0, 2)).shape == (3, 2, 4)
    assert t.movedim(0, -1).shape == (3, 4, 2) and t.moveaxis((0, 1), (1, 0)).shape == \
        (3, 2, 4)
    np.testing.assert_array_equal(m.t().data, m.data.T)
    assert Tensor([1.0, 2.0]).t().shape == (2,)
    with pytest.raises(ValueError, match="t: expects a tensor with at most 2 axes"):
        t.t()
    with pytest.raises(ValueError, match=r"permute: \(0, 1\) is not a permutation"):
        t.permute(0, 1)
    check(lambda s: s.transpose(0, 2), X)


def test_size_is_an_int_and_pytorchs_method():
    t = Tensor(X)
    assert t.size == 24 and isinstance(t.size, int) and t.size + 1 == 25
    assert t.size() == (2, 3, 4) and t.size(1) == 3 and t.size(-1) == 4
    assert t.numel() == 24 and t.dim() == 3 and tg.numel(t) == 24
    with pytest.raises(IndexError, match=r"size: dim 3 is out of range for shape \(2, 3, 4\)"):
        t.size(3)


# ------------------------------------------------------------------ in place
def test_manual_sgd_updates_keep_identity_and_requires_grad():
    w = Tensor([1.0, 2.0], requires_grad=True)
    arr, ident = w.data, id(w)
    (w * w).sum().backward()
    with tg.no_grad():
        w -= 0.1 * Tensor(w.grad)
        w += 1.0
        w *= 2.0
        w /= 4.0
    assert id(w) == ident and w.data is arr and w.requires_grad and w.is_leaf
    np.testing.assert_allclose(w.data, ((np.array([1.0, 2.0]) * 0.8) + 1) / 2, rtol=1e-6)
    with tg.no_grad():
        w -= 0.5 * w.grad  # an ndarray operand works too (w.grad = 2w before the updates)
    np.testing.assert_allclose(w.data, [0.9 - 1.0, 1.3 - 2.0], rtol=1e-6)


def test_inplace_on_a_leaf_that_requires_grad_raises_pytorchs_error():
    w = Tensor([1.0, 2.0], requires_grad=True)
    for update in (lambda: w.__isub__(1.0), lambda: w.add_(1.0), lambda: w.zero_(),
                   lambda: w.normal_(), lambda: w.__setitem__(0, 5.0)):
        with pytest.raises(RuntimeError, match="a leaf tensor that requires grad cannot be used "
                                               "in an in-place operation"):
            update()
    np.testing.assert_array_equal(w.data, [1.0, 2.0])


def test_inplace_operators_in_a_graph_record_a_new_node():
    w = Tensor([1.0, 2.0], requires_grad=True)
    y = w * 3
    y += w  # grad mode, non-leaf: recorded as y = y + w (y is rebound)
    y.sum().backward()
    np.testing.assert_array_equal(w.grad, [4, 4])
    acc = tg.zeros(2)
    acc += w * w  # a constant accumulating a graph: as PyTorch, the result requires grad
    assert acc.requires_grad
    with pytest.raises(RuntimeError, match="add_: this in-place update would have to be recorded"):
        (w * 2).add_(1.0)


def test_inplace_on_an_array_saved_for_backward_raises_instead_of_corrupting():
    x = Tensor([1.0, 2.0])
    w = Tensor([3.0, 4.0], requires_grad=True)
    loss = (x * w).sum()  # saves x for w's gradient
    with pytest.raises(RuntimeError, match="saved for a backward pass that has not run yet"):
        x += 1.0
    loss.backward()
    np.testing.assert_array_equal(w.grad, [1.0, 2.0])  # the gradient is intact
    x += 1.0  # freed by backward: writeable again
    np.testing.assert_array_equal(x.data, [2.0, 3.0])
    x = Tensor([[1.0, 2.0], [3.0, 4.0]])
    xt = x.T  # a view of x's array, made before the graph saved it
    loss = (x * w[0]).sum()
    with pytest.raises(RuntimeError, match="saved for a backward pass that has not run yet"):
        xt += 1.0
    loss.backward()
    assert w.grad[0] == 1.0 + 10.0  # 1 from the first graph, then Σx, untouched
    ro = Tensor(np.broadcast_to(np.ones(1), (3,)))
    with pytest.raises(RuntimeError, match="read-only"):
        ro.fill_(0)


def test_inplace_dtype_and_shape_errors():
    i = tg.tensor([1, 2])
    with pytest.raises(TypeError, match=r"\+=: cannot update a tensor of shape \(2,\) and dtype "
                                        "int64 in place"):
        i += 0.5
    i += 1  # same kind: fine
    np.testing.assert_array_equal(i.data, [2, 3])
    f = tg.zeros(2)
    with pytest.raises(ValueError, match=r"add_: cannot update a tensor of shape \(2,\)"):
        f.add_(tg.ones(3, 2))
    f += tg.ones(2, dtype=np.float64)  # float64 into float32: same kind
    assert f.dtype == np.float32


def test_underscore_methods():
    t = tg.zeros(2, 3)
    assert t.fill_(2.0) is t and (t.data == 2).all()
    t.add_(tg.ones(3), alpha=2).sub_(1.0).mul_(3.0).div_(2.0)
    np.testing.assert_allclose(t.data, np.full((2, 3), 4.5))
    t.clamp_(max=4.0)
    assert (t.data == 4).all()
    t.copy_(np.arange(3.0))
    np.testing.assert_array_equal(t.data, [[0, 1, 2], [0, 1, 2]])
    t[0, 1] = 7.0
    t[t > 6] = -1.0
    np.testing.assert_array_equal(t.data, [[0, -1, 2], [0, 1, 2]])
    tg.manual_seed(0)
    t.normal_(5.0, 0.5)
    assert 3 < t.data.mean() < 7
    t.uniform_(-1, 1)
    assert (np.abs(t.data) <= 1).all()
    assert t.zero_() is t and not t.data.any()
    w = Tensor([1.0], requires_grad=True)
    with tg.no_grad():
        w.mul_(3.0).clamp_(min=5.0)
    assert w.item() == 5 and w.requires_grad


def test_grad_data_habit_gets_a_clear_message():
    w = Tensor([1.0], requires_grad=True)
    (w * 2).sum().backward()
    with tg.no_grad(), pytest.raises(TypeError, match=r"p.grad is already the NumPy array"):
        w.sub_(w.grad.data)


# ------------------------------------------------------------------ conversions and attributes
def test_dtype_and_device_conversions():
    t = Tensor([1.5, -2.0], requires_grad=True)
    assert t.double().dtype == tg.float64 and t.float().dtype == tg.float32
    assert t.long().dtype == tg.int64 and t.long().data.tolist() == [1, -2]
    assert t.int().dtype == tg.int32 and t.bool().dtype == tg.bool and t.half().dtype == \
        tg.float16
    assert t.to(tg.float64).dtype == np.float64 and t.to("cpu") is t and t.cpu() is t
    assert t.to("cpu", tg.float64).dtype == np.float64
    assert t.to(tg.tensor([1])).dtype == np.int64 and t.type_as(tg.zeros(1, dtype=np.float64)
                                                               ).dtype == np.float64
    assert t.device == "cpu" and t.contiguous() is t
    t.to(tg.float64).sum().backward()  # float casts are differentiable
    np.testing.assert_array_equal(t.grad, [1, 1])
    for bad in (lambda: t.to("cuda"), lambda: t.cuda(), lambda: tg.tensor([1.0], device="cuda")):
        with pytest.raises(RuntimeError, match="CPU only"):
            bad()


def test_grad_fn_and_clone():
    w = Tensor([1.0, 2.0], requires_grad=True)
    assert w.grad_fn is None
    c = w.clone()
    assert c.grad_fn is c._ctx and c.grad_fn.op_name == "clone"
    assert c.data is not w.data and np.shares_memory(c.data, w.data) is False
    (c * c).sum().backward()
    np.testing.assert_array_equal(w.grad, [2, 4])


# ------------------------------------------------------------------ methods
def test_view_expand_repeat_values():
    t = Tensor(np.arange(6.0).reshape(2, 3))
    assert t.view(3, 2).shape == (3, 2) and t.view(-1).shape == (6,)
    assert t.view_as(tg.zeros(6)).shape == (6,) and t.reshape_as(tg.zeros(3, 2)).shape == (3, 2)
    c = Tensor([[1.0], [2.0]])
    np.testing.assert_array_equal(c.expand(2, 3).data, [[1, 1, 1], [2, 2, 2]])
    assert c.expand(4, -1, 3).shape == (4, 2, 3) and c.expand_as(tg.zeros(2, 5)).shape == (2, 5)
    np.testing.assert_array_equal(t.repeat(2, 1).data, np.tile(t.data, (2, 1)))
    np.testing.assert_array_equal(t.repeat(2, 1, 2).data, np.tile(t.data, (2, 1, 2)))
    np.testing.assert_array_equal(Tensor([1, 2]).repeat_interleave(2).data, [1, 1, 2, 2])
    np.testing.assert_array_equal(t.repeat_interleave(2, dim=0).data, np.repeat(t.data, 2, 0))
    with pytest.raises(ValueError, match="repeat: give at least one count per axis"):
        t.repeat(2)


def test_gather_index_select_masked_fill_values():
    x = np.arange(12.0).reshape(3, 4)
    t = Tensor(x)
    idx = np.array([[0, 3], [1, 1], [2, 0]])
    np.testing.assert_array_equal(t.gather(1, Tensor(idx)).data, np.take_along_axis(x, idx, 1))
    idx0 = np.array([[2, 0, 1, 1]])
    np.testing.assert_array_equal(t.gather(0, idx0).data, np.take_along_axis(x, idx0, 0))
    np.testing.assert_array_equal(t.index_select(1, Tensor([3, 0])).data, x[:, [3, 0]])
    m = x > 6
    np.testing.assert_array_equal(t.masked_fill(Tensor(m), -1.0).data, np.where(m, -1, x))
    with pytest.raises(IndexError, match="gather: index -1 is out of range"):
        t.gather(1, np.array([[-1]]))
    with pytest.raises(ValueError, match=r"gather: index of shape \(4, 1\) does not fit"):
        t.gather(1, np.zeros((4, 1), dtype=np.int64))
    with pytest.raises(TypeError, match="masked_fill: mask must be bool"):
        t.masked_fill(np.ones((3, 4)), 0.0)
    with pytest.raises(TypeError, match="gather: index must hold integers"):
        t.gather(1, np.zeros((3, 1)))


def test_split_chunk_unbind_unfold_flip_roll_values():
    x = np.arange(10.0)
    t = Tensor(x)
    assert [p.data.tolist() for p in t.split(4)] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert [len(p) for p in t.split([2, 8])] == [2, 8]
    assert [len(p) for p in t.chunk(3)] == [4, 4, 2]
    assert [u.item() for u in Tensor([[1.0, 2.0]]).unbind(1)] == [1, 2]
    np.testing.assert_array_equal(t.unfold(0, 4, 3).data, [[0, 1, 2, 3], [3, 4, 5, 6],
                                                            [6, 7, 8, 9]])
    m = Tensor(np.arange(24.0).reshape(2, 3, 4))
    assert m.unfold(1, 2, 1).shape == (2, 2, 4, 2)
    np.testing.assert_array_equal(m.unfold(1, 2, 1).data[0, 1, :, 0], m.data[0, 1])
    np.testing.assert_array_equal(m.flip(0, 2).data, m.data[::-1, :, ::-1])
    np.testing.assert_array_equal(m.flip([1]).data, m.data[:, ::-1])
    np.testing.assert_array_equal(t.roll(3).data, np.roll(x, 3))
    np.testing.assert_array_equal(m.roll((1, -1), (0, 2)).data, np.roll(m.data, (1, -1), (0, 2)))
    with pytest.raises(ValueError, match=r"split: sizes \[2, 2\] do not add up to the length 10"):
        t.split([2, 2])


def test_sort_topk_argsort_argmax_values():
    x = np.array([[3.0, 1.0, 2.0, 1.0], [0.0, 5.0, 5.0, -1.0]])
    t = Tensor(x)
    s = t.sort(dim=1)
    np.testing.assert_array_equal(s.values.data, np.sort(x, axis=1))
    np.testing.assert_array_equal(s.indices.data, [[1, 3, 2, 0], [3, 0, 1, 2]])  # stable
    d = t.sort(descending=True)
    np.testing.assert_array_equal(d.values.data, -np.sort(-x, axis=1))
    np.testing.assert_array_equal(d.indices.data, [[0, 2, 1, 3], [1, 2, 0, 3]])
    k = t.topk(2)
    np.testing.assert_array_equal(k.values.data, [[3, 2], [5, 5]])
    np.testing.assert_array_equal(t.topk(1, dim=0, largest=False).indices.data, [[1, 0, 0, 1]])
    assert t.argmax().item() == 5 and t.argmin(dim=1).tolist() == [1, 3]
    assert t.argmax(1, keepdim=True).shape == (2, 1)
    np.testing.assert_array_equal(tg.argsort(t, dim=0).data, np.argsort(x, 0, kind="stable"))
    with pytest.raises(ValueError, match="topk: k=5 is out of range"):
        t.topk(5)


def test_amax_amin_nonzero_masked_fill_():
    t = Tensor(X, requires_grad=True)
    np.testing.assert_array_equal(t.amax(dim=(0, 2)).data, X.max(axis=(0, 2)))
    np.testing.assert_array_equal(tg.amin(t, 1, keepdim=True).data, X.min(1, keepdims=True))
    np.testing.assert_array_equal(tg.nonzero(Tensor([[0, 3], [2, 0]])).data, [[0, 1], [1, 0]])
    m = tg.zeros(2, 2)
    assert m.masked_fill_(Tensor([[True, False], [False, True]]), 5.0) is m
    np.testing.assert_array_equal(m.data, [[5, 0], [0, 5]])
    with pytest.raises(RuntimeError, match="masked_fill_: a leaf tensor that requires grad"):
        t.masked_fill_(X > 0, 0.0)


def test_cumsum_all_any_comparisons_and_arithmetic_names():
    t = Tensor(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(t.cumsum(dim=1).data, np.cumsum(t.data, 1))
    np.testing.assert_array_equal(t.cumsum().data, np.cumsum(t.data))  # None: flattened
    assert tg.cumprod(Tensor([1, 2, 3]), 0).tolist() == [1, 2, 6]
    assert t.all().item() is False and t.any(dim=1).tolist() == [True, True]
    assert (t > 0).all(1, keepdim=True).shape == (2, 1)
    assert t.eq(2).tolist() == [[False, False, True], [False, False, False]]
    assert t.ge(3).sum().item() == 3 and t.ne(0).sum().item() == 5 and t.lt(1).sum().item() == 1
    assert t.le(1).sum().item() == 2 and t.gt(4).sum().item() == 1
    assert t.equal(t.clone()) and not t.equal(t + 1)
    np.testing.assert_array_equal(t.add(1, alpha=2).data, t.data + 2)
    np.testing.assert_array_equal(t.sub(t, alpha=0.5).data, t.data / 2)
    np.testing.assert_array_equal(t.mul(2).div(4).data, t.data / 2)
    np.testing.assert_array_equal(t.pow(2).data, t.data ** 2)
    np.testing.assert_array_equal(t.mm(t.T).data, t.data @ t.data.T)
    np.testing.assert_array_equal(t.clamp(1, 3).data, np.clip(t.data, 1, 3))
    np.testing.assert_array_equal(t.clamp_min(2).data, np.maximum(t.data, 2))
    np.testing.assert_array_equal(t.clamp(max=Tensor([1.0, 2, 3])).data,
                                  np.minimum(t.data, [1, 2, 3]))
    np.testing.assert_allclose(Tensor([2.0, 4.0]).reciprocal().data, [0.5, 0.25])
    assert Tensor([1.0, np.nan, np.inf]).isnan().tolist() == [False, True, False]
    assert Tensor([1.0, np.inf]).isinf().tolist() == [False, True]
    assert Tensor([1.0, np.inf]).isfinite().tolist() == [True, False]


@given(data=st.data())
def test_index_style_methods_are_differentiable(data):
    x = distinct(data.draw(arrays(shapes(min_dims=2, max_dims=3, min_side=2), -3, 3)))
    d = data.draw(st.integers(0, x.ndim - 1))
    n = x.shape[d]
    rng = np.random.default_rng(data.draw(st.integers(0, 99)))
    idx = rng.integers(0, n, x.shape[:d] + (n + 1,) + x.shape[d + 1:])  # repeats accumulate
    idx = idx[tuple(slice(0, n) for _ in range(x.ndim))]
    check(lambda t: t.gather(d, idx), x)
    picks = rng.integers(0, n, 3)
    check(lambda t: t.index_select(d, picks), x)
    check(lambda t: t.masked_fill(x > 0, 0.5), x)
    check(lambda t: t.repeat(2, *([1] * (x.ndim - 1))), x)
    check(lambda t: t.unsqueeze(0).expand(2, *x.shape), x)
    check(lambda t: t.roll(1, d).flip(d), x)
    check(lambda t: t.unfold(d, min(2, n), 1), x)
    check(lambda t: t.sort(d).values * 1.0, x)
    check(lambda t: t.topk(1, d).values, x)
    check(lambda t: t.split(1, d)[0] + t.chunk(2, d)[-1].sum(), x)
    check(lambda t: t.permute(*reversed(range(x.ndim))).t() if x.ndim == 2 else
          t.movedim(0, -1), x)


# ------------------------------------------------------------------ top level
def test_constructors_pytorch_names():
    a = np.array([1.0, 2.0])
    copied, shared = tg.tensor(a), tg.from_numpy(a)
    a[0] = 9.0
    assert copied.data[0] == 1.0 and shared.data[0] == 9.0  # tensor copies, from_numpy shares
    with tg.no_grad():
        shared += 1.0
    assert a[0] == 10.0  # and in-place updates are seen by the array
    with pytest.raises(TypeError, match="from_numpy: expected a NumPy array"):
        tg.from_numpy([1.0])
    assert tg.tensor([1, 2]).dtype == tg.int64 and tg.tensor([1.0]).dtype == tg.float32
    assert tg.tensor([1e-12], dtype=tg.float64).item() == 1e-12  # never through float32
    assert tg.tensor(2.0, requires_grad=True).requires_grad
    x = tg.ones(2, 3, dtype=tg.float64)
    for like, value in ((tg.zeros_like, 0), (tg.ones_like, 1)):
        out = like(x)
        assert out.shape == (2, 3) and out.dtype == np.float64 and (out.data == value).all()
    assert tg.full_like(x, 7, dtype=tg.int32).data.tolist() == [[7] * 3] * 2
    tg.manual_seed(1)
    r = tg.randn_like(x)
    tg.manual_seed(1)
    np.testing.assert_array_equal(tg.randn(2, 3, dtype=np.float64).data, r.data)
    assert tg.rand_like(x).shape == (2, 3) and tg.empty(2, 2).shape == (2, 2)
    with pytest.raises(TypeError, match="randn_like: draws floats"):
        tg.randn_like(tg.tensor([1, 2]))
    ints = tg.randint(3, 7, (100,))
    assert ints.dtype == np.int64 and ints.data.min() >= 3 and ints.data.max() < 7
    assert tg.randint(5, (2, 2)).data.max() < 5
    with pytest.raises(TypeError, match="randint: give the size"):
        tg.randint(0, 5)
    np.testing.assert_allclose(tg.linspace(0, 1, 5).data, [0, .25, .5, .75, 1])


def test_top_level_functions_and_helpers():
    x = tg.tensor([[1.0, -2.0], [3.0, 0.5]])
    np.testing.assert_allclose(tg.exp(x).data, np.exp(x.data))
    np.testing.assert_allclose(tg.sigmoid(x).data, x.sigmoid().data)
    np.testing.assert_allclose(tg.matmul(x, x).data, x.data @ x.data)
    np.testing.assert_allclose(tg.softmax(x, dim=0).data, x.softmax(0).data)
    np.testing.assert_allclose(tg.sum(x, 1).data, x.data.sum(1))
    np.testing.assert_allclose(tg.log([1.0, np.e]).data, [0, 1], rtol=1e-6)  # lists too
    assert tg.is_tensor(x) and not tg.is_tensor(x.data)
    assert tg.allclose(x, x.data + 1e-9) and not tg.allclose(x, x + 1)
    assert tg.float32 is np.float32 and tg.float is np.float32 and tg.double is np.float64
    assert tg.long is np.int64 and tg.int is np.int32 and tg.bool is np.bool_
    assert tg.half is np.float16
    star: dict = {}
    exec("from tinygrad_ng import *", star)  # never shadows Python's sum, max, float ...
    assert "sum" not in star and "float" not in star and "exp" in star and "tensor" in star
    w = tg.ones(2, requires_grad=True)
    with tg.inference_mode():
        assert not (w * 2).requires_grad
    assert (w * 2).requires_grad


@pytest.mark.parametrize("call", [lambda t: t.permute(0, 1, 5), lambda t: t.transpose(0, 1, 5),
                                  lambda t: t.permute(0, -4, 1), lambda t: t.transpose(3, 0, 1)])
def test_an_axis_out_of_range_raises_instead_of_wrapping_around(call):
    x = tg.randn(2, 3, 4)
    with pytest.raises(ValueError, match="is not a permutation of the 3 axes"):
        call(x)
    assert x.permute(-1, 0, 1).shape == x.transpose(2, 0, 1).shape == (4, 2, 3)
