"""Tensor construction, the dtype policy, attributes, constructors and error messages."""

import numpy as np
import pytest

import tinygrad_ng as tg
from tinygrad_ng import Tensor


def test_dtype_policy_of_the_constructor():
    assert Tensor(1.5).dtype == np.float32
    assert Tensor([1.0, 2.0]).dtype == np.float32
    assert Tensor(3).dtype == np.int64 and Tensor([1, 2]).dtype == np.int64
    assert Tensor(True).dtype == np.bool_ and Tensor([True, False]).dtype == np.bool_
    assert Tensor(np.zeros(2, np.float64)).dtype == np.float64
    assert Tensor(np.zeros(2, np.int32)).dtype == np.int32
    assert Tensor([1, 2], dtype=np.float64).dtype == np.float64
    tg.set_default_dtype(np.float64)
    assert Tensor(1.5).dtype == np.float64 and tg.zeros(2).dtype == np.float64
    tg.set_default_dtype(np.float32)
    with pytest.raises(TypeError, match="floating"):
        tg.set_default_dtype(np.int32)


def test_arrays_are_shared_not_copied():
    a = np.ones(3, np.float32)
    t = Tensor(a)
    assert t.data is a and t.numpy() is a
    assert Tensor(t).data is a


def test_integer_and_bool_tensors_cannot_require_grad():
    with pytest.raises(TypeError, match="floating-point"):
        Tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError, match="floating-point"):
        Tensor([True]).requires_grad_()


def test_unsupported_data_is_rejected_clearly():
    with pytest.raises(TypeError, match="unsupported data of type str"):
        Tensor("abc")
    with pytest.raises(TypeError, match="unsupported dtype"):
        Tensor(np.array(["a"]))
    with pytest.raises(ValueError, match="rectangular"):
        Tensor([[1.0, 2.0], [3.0]])


def test_python_scalars_never_upcast_float32():
    x = tg.ones(2, 2)
    for y in (x * 2.0, 2.0 * x, x + 1, x / 3, x ** 2.0, 2.0 ** x, x - np.float64(1.0),
              x.maximum(0.5), tg.where(x > 0, x, 0.0)):
        assert y.dtype == np.float32, y
    assert (Tensor([1, 2]) * 0.5).dtype == np.float32  # int tensor times float: default float


def test_attributes():
    x = Tensor(np.zeros((2, 3)), requires_grad=True, name="x")
    assert x.shape == (2, 3) and x.ndim == 2 and x.size == 6 and x.name == "x"
    assert x.is_leaf and x.op is None
    y = x * 2
    assert not y.is_leaf and y.op == "mul" and y.requires_grad
    assert "op=mul" in repr(y) and "requires_grad=True" in repr(x)
    assert len(y) == 2 and y.tolist() == [[0.0] * 3] * 2
    assert Tensor([[4.0]]).item() == 4.0
    with pytest.raises(ValueError, match="one-element"):
        x.item()


def test_comparisons_give_bool_tensors_outside_the_graph():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    for c in (x < 2, x <= 2, x > 2, x >= 2, x == 2, x != 2):
        assert c.dtype == np.bool_ and not c.requires_grad
    np.testing.assert_array_equal((x == 2).data, [False, True, False])
    assert hash(x) != hash(Tensor([1.0]))  # tensors hash by identity despite ==


def test_numpy_on_the_left_defers_to_tensor():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = np.array([3.0, 4.0]) * x
    assert isinstance(y, Tensor)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [3.0, 4.0])


def test_constructors():
    for make in (tg.zeros, tg.ones, tg.randn, tg.rand):
        assert make(2, 3).shape == (2, 3) and make((2, 3)).shape == (2, 3)
        assert make(2, dtype=np.float64).dtype == np.float64
        assert make(2, requires_grad=True).requires_grad
    assert tg.full((2, 2), 7.0).data.tolist() == [[7.0, 7.0], [7.0, 7.0]]
    assert tg.full(3, 1).dtype == np.int64
    assert tg.arange(4).data.tolist() == [0, 1, 2, 3] and tg.arange(4).dtype == np.int64
    assert tg.arange(0, 1, 0.25).dtype == np.float32
    np.testing.assert_array_equal(tg.eye(3).data, np.eye(3))
    assert 0 <= tg.rand(100).data.min() and tg.rand(100).data.max() < 1


def test_manual_seed_makes_draws_repeatable():
    tg.manual_seed(42)
    a = tg.randn(5).data.copy()
    tg.manual_seed(42)
    np.testing.assert_array_equal(a, tg.randn(5).data)


def test_shape_errors_name_the_op_and_shapes():
    with pytest.raises(ValueError, match=r"^matmul: \(4, 3\) @ \(4, 1\): inner dimensions 3 != 4$"):
        tg.ones(4, 3) @ tg.ones(4, 1)
    with pytest.raises(ValueError, match=r"add: shapes \(2, 3\) and \(4,\)"):
        tg.ones(2, 3) + tg.ones(4)
    with pytest.raises(ValueError, match=r"reshape: cannot reshape a tensor of shape \(2, 3\)"):
        tg.ones(2, 3).reshape(4, 2)
    with pytest.raises(ValueError, match="sum: axis 2 is out of range"):
        tg.ones(2, 3).sum(axis=2)
    with pytest.raises(IndexError, match=r"getitem: .*shape \(2, 3\)"):
        tg.ones(2, 3)[5]
    with pytest.raises(ValueError, match="squeeze: axis 0"):
        tg.ones(2, 3).squeeze(0)
    with pytest.raises(ValueError, match="transpose"):
        tg.ones(2, 3, 4).transpose(0, 0, 1)
    with pytest.raises(ValueError, match="matmul: operands"):
        tg.ones(3) @ Tensor(2.0)


def test_shape_ops_values():
    x = tg.arange(24).reshape(2, 3, 4)
    assert x.transpose(1, 0, 2).shape == (3, 2, 4) and x.T.shape == (4, 3, 2)
    assert x.flatten().shape == (24,) and x.flatten(1).shape == (2, 12)
    assert x.unsqueeze(0).shape == (1, 2, 3, 4) and x.unsqueeze(-1).shape == (2, 3, 4, 1)
    assert x[:, :1].squeeze(1).shape == (2, 4)
    assert tg.ones(3).broadcast_to(2, 3).shape == (2, 3)
    assert tg.stack([tg.ones(2), tg.zeros(2)], axis=1).shape == (2, 2)
    assert tg.concatenate([tg.ones(2), tg.zeros(3)]).shape == (5,)
    np.testing.assert_array_equal(x[x > 20].data, [21, 22, 23])


def test_reductions_values_and_keepdims():
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    t = Tensor(x)
    for axis in (None, 0, -1, (0, 2)):
        for keep in (False, True):
            np.testing.assert_allclose(t.sum(axis, keep).data, x.sum(axis, keepdims=keep))
            np.testing.assert_allclose(t.mean(axis, keep).data, x.mean(axis, keepdims=keep))
            np.testing.assert_allclose(t.var(axis=axis, keepdims=keep).data,
                                       x.var(axis, keepdims=keep))
            np.testing.assert_allclose(t.max(axis=axis, keepdims=keep).data,
                                       x.max(axis, keepdims=keep))
            np.testing.assert_allclose(t.min(axis=axis, keepdims=keep).data,
                                       x.min(axis, keepdims=keep))
            ref = np.log(np.exp(x).sum(axis, keepdims=keep))
            np.testing.assert_allclose(t.logsumexp(axis, keep).data, ref)
    np.testing.assert_allclose(t.var(1, ddof=1).data, x.var(1, ddof=1))


def test_integer_operands_take_the_float_dtype_as_in_pytorch():
    f32, i = tg.ones(2), Tensor([1, 2])
    for y in (f32 + i, i * f32, f32 ** Tensor(2), f32 + np.array([1, 2]), i / 2, i / i,
              i.exp(), i.sqrt(), i.log(), i.mean(), i.var(), i.logsumexp(), i.maximum(0.5),
              i.clip(0.5), tg.where(i > 1, i, 1.0), tg.where(i > 1, 1.0, i)):
        assert y.dtype == np.float32, y
    assert (i + 1).dtype == np.int64 and i.sum().dtype == np.int64 and (-i).dtype == np.int64
    y = f32 * Tensor([3, 4])  # the float side still gets its gradient
    x = tg.ones(2, requires_grad=True)
    (x * Tensor([3, 4])).sum().backward()
    np.testing.assert_allclose(x.grad, [3, 4])
    assert y.dtype == np.float32


def test_more_errors_name_the_op():
    with pytest.raises(ValueError, match="concatenate: axis 2"):
        tg.concatenate([tg.ones(2, 3)] * 2, axis=2)
    with pytest.raises(TypeError, match="mean: axis must be"):
        tg.ones(2, 3).mean(axis=1.0)
    assert Tensor(3.0).squeeze(0).shape == () and Tensor(3.0).sum(axis=0).item() == 3.0


def test_reductions_over_empty_outer_axes():
    x = tg.zeros(0, 3)
    assert x.max(axis=1).shape == (0,) and x.min(axis=1).shape == (0,)
    assert x.logsumexp(axis=0).tolist() == [-np.inf] * 3
    with pytest.raises(ValueError, match="max"):
        x.max(axis=0)


def test_user_op_returning_a_python_number_keeps_the_input_dtype():
    class Total(tg.Function):
        @staticmethod
        def forward(ctx, x):
            return float(x.sum())

        @staticmethod
        def backward(ctx, g):
            return g

    assert Total.apply(tg.ones(3)).dtype == np.float32


@pytest.mark.parametrize("dtype", [">f8", ">f4", "<f8", ">i4", ">i8"])
def test_an_array_of_the_other_byte_order_becomes_native(dtype):
    """The dtype rule: a NumPy array is shared and its dtype kept, except that data in the
    non-native byte order is copied into native order (the ops compute in native order)."""
    user = np.array([[1.0, -2.0], [3.0, 0.5]]).astype(dtype)
    kept = user.copy()
    t = Tensor(user)
    assert t.dtype == user.dtype.newbyteorder("=") and t.dtype.isnative
    assert (t.data is user) == user.dtype.isnative  # native arrays are still shared
    np.testing.assert_array_equal(t.data, user)
    if t.dtype.kind == "f":
        t.requires_grad_()
        (t * t + t.exp()).sum().backward()
        assert t.grad.dtype == t.dtype
        np.testing.assert_allclose(t.grad, 2 * kept + np.exp(kept), rtol=1e-6)
    assert user.dtype == np.dtype(dtype) and user.flags.writeable
    np.testing.assert_array_equal(user, kept)
