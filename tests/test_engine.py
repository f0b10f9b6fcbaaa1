"""The reverse-mode engine: ordering, accumulation, graph lifetime, modes and custom ops."""

import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import tinygrad_ng as tg
from tinygrad_ng import Tensor


def leaves(*values, dtype=np.float64):
    return [Tensor(np.asarray(v, dtype=dtype), requires_grad=True) for v in values]


def test_course_computation_graph():
    a, b, c = leaves(5.0, 3.0, 2.0)
    u = b * c
    v = a + u
    J = 3 * v
    assert (u.item(), v.item(), J.item()) == (6.0, 11.0, 33.0)
    J.backward()
    assert (a.grad, b.grad, c.grad) == (3.0, 6.0, 9.0)
    assert u.grad is None  # intermediate gradients are not retained by default


def test_a_plus_a_and_diamond_get_every_path():
    (a,) = leaves(3.0)
    (a + a).backward()
    assert a.grad == 2.0
    (x,) = leaves(2.0)
    y = x * x          # feeds two ops
    z = y * 3 + y.exp()
    z.backward()
    assert np.isclose(x.grad, 2 * 2 * (3 + np.exp(4.0)))


def test_leaf_gradients_accumulate_across_backward_calls():
    (w,) = leaves([1.0, 2.0])
    for _ in range(3):
        (w * w).sum().backward()
    np.testing.assert_allclose(w.grad, 3 * 2 * np.array([1.0, 2.0]))
    w.zero_grad()
    assert w.grad is None


def test_gradients_of_the_two_inputs_of_add_are_not_aliased():
    a, b = leaves([1.0, 2.0], [3.0, 4.0])
    (a + b).sum().backward()
    a.grad[0] = 100.0
    assert b.grad[0] == 1.0


def test_second_backward_through_freed_graph_names_retain_graph():
    (x,) = leaves(2.0)
    y = (x * x).exp()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    (x,) = leaves(2.0)
    y = x * x * x
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad == 2 * 12.0


def test_retain_grads_and_retain_grad():
    a, b = leaves(2.0, 3.0)
    u = a * b
    v = u + a
    v.exp().backward(retain_grads=True)
    assert np.isclose(u.grad, np.exp(8.0)) and np.isclose(v.grad, np.exp(8.0))
    a2, b2 = leaves(2.0, 3.0)
    u2 = (a2 * b2).retain_grad()
    w = u2 * u2
    w.backward()
    assert u2.grad == 12.0 and w.grad is None


def test_non_scalar_backward_requires_grad_argument():
    (x,) = leaves([1.0, 2.0, 3.0])
    y = x * 2
    with pytest.raises(RuntimeError, match=r"pass grad=np.ones\(\(3,\)\)"):
        y.backward()
    y.backward(np.array([1.0, 0.0, -1.0]))
    np.testing.assert_allclose(x.grad, [2.0, 0.0, -2.0])
    with pytest.raises(ValueError, match="shape"):
        (x * 2).backward(np.ones(2))


def test_backward_on_a_tensor_without_grad_is_explained():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor([1.0, 2.0]).sum().backward()


def test_million_op_chain_backpropagates_without_recursion():
    x = Tensor(np.float64(1.0), requires_grad=True)
    y = x
    start = time.perf_counter()
    for _ in range(1_000_000):
        y = y + 1e-6
    y.backward()
    elapsed = time.perf_counter() - start
    assert x.grad == 1.0
    del y  # freeing a million-deep graph must not overflow the C stack either
    assert elapsed < 120  # a sanity bound only; speed is measured by the benchmarks


def test_in_place_change_of_a_saved_array_is_refused():
    (w,) = leaves([1.0, 2.0])
    x = Tensor([3.0, 4.0])
    loss = (w * x * w).sum()  # backward needs x and w
    with pytest.raises(ValueError, match="read-only"):
        w.data[...] = 0
    with pytest.raises(ValueError, match="read-only"):
        x.data[0] = 7
    loss.backward()
    np.testing.assert_allclose(w.grad, [6.0, 16.0])
    w.data -= 0.1 * w.grad  # the ordinary optimiser update after backward still works
    np.testing.assert_allclose(w.data, [0.4, 0.4])


def test_arrays_backward_does_not_need_stay_writable():
    (w,) = leaves([1.0, 2.0])
    X = Tensor([3.0, 4.0])
    loss = (w * X).sum()  # dL/dw = X: w itself is not needed
    w.data[0] = 10.0
    loss.backward()
    np.testing.assert_allclose(w.grad, [3.0, 4.0])


def test_a_graph_dropped_without_backward_unlocks_its_arrays():
    (w,) = leaves([1.0, 2.0])
    y = (w * w).sum()
    del y
    w.data[0] = 5.0
    assert w.data[0] == 5.0


def test_array_shared_by_two_graphs_stays_locked_until_both_are_done():
    (w,) = leaves([1.0])
    y1, y2 = (w * w).sum(), (w.square() * 3).sum()
    y1.backward()
    with pytest.raises(ValueError):
        w.data[0] = 2.0
    y2.backward()
    w.data[0] = 2.0


def test_no_grad_and_enable_grad():
    (x,) = leaves(1.0)
    with tg.no_grad():
        y = x * 2
        with tg.enable_grad():
            z = x * 2
    assert not y.requires_grad and y.is_leaf
    assert z.requires_grad and z.op == "mul"

    @tg.no_grad()
    def f(t):
        return t * 2

    assert not f(x).requires_grad


def test_grad_mode_is_thread_local():
    (x,) = leaves(1.0)
    seen = {}
    inside = threading.Event()
    release = threading.Event()

    def worker():
        with tg.no_grad():
            inside.set()
            release.wait(5)
            seen["worker"] = (x * 2).requires_grad

    t = threading.Thread(target=worker)
    t.start()
    inside.wait(5)
    seen["main"] = (x * 2).requires_grad
    release.set()
    t.join()
    assert seen == {"worker": False, "main": True}


def test_detach_cuts_the_graph():
    (x,) = leaves(3.0)
    y = x * x
    z = y.detach() * x
    z.backward()
    assert x.grad == 9.0
    assert y.detach().data is y.data


def test_tg_grad_leaves_dot_grad_untouched():
    a, b = leaves(2.0, 5.0)
    y = a * b + a
    ga, gb = tg.grad(y, [a, b])
    assert (ga, gb) == (6.0, 2.0)
    assert a.grad is None and b.grad is None
    (c,) = leaves(1.0)
    with pytest.raises(RuntimeError, match="allow_unused"):
        tg.grad(a * b, [a, c])
    assert tg.grad(a * b, [a, c], allow_unused=True)[1] is None


def test_tg_grad_of_an_intermediate_tensor():
    (x,) = leaves(2.0)
    u = x * x
    y = u * 3
    (gu,) = tg.grad(y, [u], retain_graph=True)
    assert gu == 3.0
    (gx,) = tg.grad(y, x)
    assert gx == 12.0


def test_detect_anomaly_names_the_op_and_source_line():
    (x,) = leaves([1.0, 0.0])
    with tg.detect_anomaly():
        with pytest.raises(tg.AnomalyError) as info:
            x.log()  # forward -inf
    message = str(info.value)
    assert "log" in message and "test_engine.py" in message and "x.log()" in message
    (y,) = leaves([0.0])
    with tg.detect_anomaly():
        z = y.sqrt().sum()
        with pytest.raises(tg.AnomalyError, match="sqrt.*backward"):
            z.backward()


ANOMALY_SCRIPT = """
import numpy as np
import tinygrad_ng as tg

x = tg.Tensor(np.array([1.0, 0.0]), requires_grad=True)
with tg.detect_anomaly():
    try:
        y = x.log()  # the user's line
    except tg.AnomalyError as e:
        print(e)
"""


def test_detect_anomaly_finds_a_user_script_in_a_folder_called_tinygrad_ng(tmp_path):
    folder = tmp_path / "tinygrad_ng"  # e.g. a clone made by `git clone … tinygrad_ng`
    folder.mkdir()
    script = folder / "train.py"
    script.write_text(ANOMALY_SCRIPT)
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert f"{script}:8: y = x.log()  # the user's line" in run.stdout, run.stdout


class Cube(tg.Function):
    derivatives = ("3x²",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x ** 2


class ScaledAdd(tg.Function):
    inputs, derivatives = ("a", "b"), ("k", "1")

    @staticmethod
    def forward(ctx, a, b, k=1.0):
        ctx.k = k
        return k * a + b

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.k, grad


class NoGradForSecond(tg.Function):
    @staticmethod
    def forward(ctx, a, idx):
        ctx.idx = idx
        return a[idx]

    @staticmethod
    def backward(ctx, grad):
        return None


def test_user_defined_function():
    (x,) = leaves([1.0, -2.0])
    y = Cube.apply(x)
    assert y.op == "Cube" and Cube.formula() == "∂/∂x = 3x²"
    assert tg.gradcheck(Cube.apply, [x])
    a, b = leaves([1.0, 2.0], [3.0])
    assert tg.gradcheck(lambda p, q: ScaledAdd.apply(p, q, k=2.5), [a, b])
    assert ScaledAdd.formula() == "∂/∂a = k, ∂/∂b = 1"


def test_function_returning_none_gives_no_gradient():
    (x,) = leaves([1.0, 2.0])
    out = NoGradForSecond.apply(x, 1) * 2 + x.sum()
    out.backward()
    np.testing.assert_allclose(x.grad, [1.0, 1.0])


def test_builtin_formulas_read_as_the_course_writes_them():
    from tinygrad_ng import ops

    assert ops.Mul.formula() == "∂/∂a = b, ∂/∂b = a"
    stack, checked = list(tg.Function.__subclasses__()), 0
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.__module__.startswith("tinygrad_ng.") and not cls.__name__.startswith("_"):
            assert cls.derivatives and len(cls.derivatives) == len(cls.inputs), cls.__name__
            checked += 1
    assert checked >= 40


def test_gradients_keep_float32():
    x = tg.randn(3, 4, requires_grad=True)
    w = tg.randn(4, 2, requires_grad=True)
    y = ((x @ w).tanh() * 0.5 + 1).sum()
    assert y.dtype == np.float32
    y.backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32
    # a float64 constant does not change the dtype of the leaf's gradient
    z = (x * np.ones((3, 4), dtype=np.float64)).sum()
    assert z.dtype == np.float64
    x.grad = None
    z.backward()
    assert x.grad.dtype == np.float32


def test_detect_anomaly_explains_a_graph_built_outside_it():
    (y,) = leaves([0.0])
    z = y.sqrt().sum()
    with tg.detect_anomaly():
        with pytest.raises(tg.AnomalyError, match="outside detect_anomaly"):
            z.backward()


def test_set_grad_enabled_as_call_and_as_context():
    (x,) = leaves(1.0)
    with tg.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad
    tg.set_grad_enabled(False)
    try:
        assert not (x * 2).requires_grad and not tg.is_grad_enabled()
    finally:
        tg.set_grad_enabled(True)
    assert (x * 2).requires_grad
