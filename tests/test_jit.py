"""tg.jit: a replayed step gives the eager step's bits; guards re-record; bad steps refuse.

Every model kind of the notebooks is trained for 100 steps twice from the same seed, once
eagerly and once through ``tg.jit``: the losses and every parameter and buffer must be
bit-for-bit equal (the tape runs the same NumPy calls in the same order).
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_ng as tg
import tinygrad_ng.functional as F
from tinygrad_ng import nn, optim

OPTIMISERS = {
    "sgd": lambda p: optim.SGD(p, lr=0.1),
    "sgd_momentum": lambda p: optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=1e-3),
    "momentum": lambda p: optim.Momentum(p, lr=0.1, beta=0.9),
    "rmsprop": lambda p: optim.RMSprop(p, lr=1e-2),
    "adam": lambda p: optim.Adam(p, lr=1e-2),
    "adamw": lambda p: optim.AdamW(p, lr=1e-2),
}


def _model(kind: str, n_in: int, n_out: int) -> nn.Module:
    """The networks of the notebooks: deep ReLU/tanh MLPs, with batch norm, with dropout."""
    if kind == "mlp_relu":
        return nn.Sequential(nn.Linear(n_in, 8), nn.ReLU(), nn.Linear(8, 4), nn.ReLU(),
                             nn.Linear(4, n_out))
    if kind == "mlp_tanh":
        return nn.Sequential(nn.Linear(n_in, 6), nn.Tanh(), nn.Linear(6, n_out))
    if kind == "batchnorm":
        return nn.Sequential(nn.Linear(n_in, 8), nn.BatchNorm1d(8), nn.ReLU(),
                             nn.Linear(8, n_out))
    if kind == "dropout":
        return nn.Sequential(nn.Linear(n_in, 16), nn.ReLU(), nn.Dropout(0.3),
                             nn.Linear(16, 8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, n_out))
    raise ValueError(kind)


def _losses(head: str):
    if head == "sigmoid_bce":
        return lambda out, y: nn.BCELoss()(out.sigmoid(), y)
    if head == "bce_logits":
        return F.binary_cross_entropy_with_logits
    if head == "softmax_ce":
        return F.cross_entropy
    return F.mse_loss


def _data(head: str, m: int = 32, n_in: int = 4, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n_in)).astype(np.float32)
    if head == "softmax_ce":
        return X, rng.integers(0, 3, size=m), 3
    return X, (X[:, :1] * X[:, 1:2] > 0).astype(np.float32), 1


def _step(model: nn.Module, opt: optim.Optimizer, loss_fn):
    """The training step of every notebook: zero_grad, cost, backward, update."""
    def step(X, Y):
        opt.zero_grad()
        loss = loss_fn(model(X), Y)
        loss.backward()
        opt.step()
        return loss
    return step


def _setup(kind: str, head: str, opt_name: str, legacy: bool = False):
    tg.manual_seed(7, legacy=legacy)
    X, Y, n_out = _data(head)
    model = _model(kind, X.shape[1], n_out)
    opt = OPTIMISERS[opt_name](model.parameters())
    return model, opt, _step(model, opt, _losses(head)), X, Y


def _train(step, X, Y, steps: int, legacy: bool = False):
    tg.manual_seed(11, legacy=legacy)
    losses = []
    for k in range(steps):
        lo = (k % 3) * 8  # overlapping mini-batches of 16
        hi = lo + 16
        losses.append(step(tg.Tensor(X[lo:hi]), tg.Tensor(Y[lo:hi])).item())
    return losses


def _same_state(a: nn.Module, b: nn.Module) -> None:
    for (k, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
        assert np.array_equal(x, y), k


CASES = [
    ("mlp_relu", "sigmoid_bce", "sgd"), ("mlp_relu", "bce_logits", "adam"),
    ("mlp_tanh", "sigmoid_bce", "momentum"), ("mlp_relu", "softmax_ce", "rmsprop"),
    ("mlp_tanh", "mse", "sgd_momentum"), ("batchnorm", "softmax_ce", "adam"),
    ("batchnorm", "sigmoid_bce", "sgd"), ("dropout", "bce_logits", "adam"),
    ("dropout", "softmax_ce", "momentum"), ("mlp_relu", "sigmoid_bce", "adamw"),
]


@pytest.mark.parametrize("kind,head,opt_name", CASES)
def test_replayed_steps_equal_eager_steps_bit_for_bit(kind, head, opt_name):
    eager_model, eager_opt, eager_step, X, Y = _setup(kind, head, opt_name)
    jit_model, jit_opt, jit_step, _, _ = _setup(kind, head, opt_name)
    step = tg.jit(jit_step)
    eager_losses = _train(eager_step, X, Y, 100)
    jit_losses = _train(step, X, Y, 100)
    assert step.recordings == 1
    assert jit_losses == eager_losses
    _same_state(eager_model, jit_model)
    assert eager_opt.state_dict()["state"].keys() == jit_opt.state_dict()["state"].keys()
    for s_e, s_j in zip(eager_opt.state_dict()["state"].values(),
                        jit_opt.state_dict()["state"].values()):
        for key in s_e:
            assert np.array_equal(s_e[key], s_j[key]), key


def test_dropout_in_legacy_mode_draws_the_course_masks_on_every_replay():
    eager_model, _, eager_step, X, Y = _setup("dropout", "sigmoid_bce", "sgd", legacy=True)
    jit_model, _, jit_step, _, _ = _setup("dropout", "sigmoid_bce", "sgd", legacy=True)
    step = tg.jit(jit_step)
    assert _train(step, X, Y, 30, legacy=True) == _train(eager_step, X, Y, 30, legacy=True)
    _same_state(eager_model, jit_model)
    tg.manual_seed(0)


def test_dropout_masks_are_fresh_on_each_replay():
    model = nn.Dropout(0.5)
    step = tg.jit(lambda x: model(x))
    x = tg.ones(8, 8)
    first, second = step(x).data, step(x).data
    assert step.recordings == 1
    assert not np.array_equal(first, second)


def test_a_smaller_last_batch_gets_its_own_tape_once():
    _, _, train_step, X, Y = _setup("mlp_relu", "sigmoid_bce", "sgd")
    step = tg.jit(train_step)
    for _ in range(3):  # three epochs of batches 16, 16, 8 (shapes alternate)
        for lo, hi in ((0, 12), (12, 24), (24, 32)):
            step(tg.Tensor(X[lo:hi]), tg.Tensor(Y[lo:hi]))
    assert step.recordings == 2
    assert len(step.cache) == 2


def test_a_new_dtype_re_records_and_computes_in_it():
    w = tg.Tensor(np.ones(3), requires_grad=True)
    step = tg.jit(lambda x: (x * w).sum())
    assert step(tg.Tensor(np.arange(3.0, dtype=np.float32))).dtype == np.float64
    out = step(tg.Tensor(np.arange(3.0, dtype=np.float64)))
    assert step.recordings == 2
    assert out.item() == 3.0


def _sgd_setup():
    tg.manual_seed(3)
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 1))
    train_step = _step(model, optim.SGD(model.parameters(), lr=0.1), F.mse_loss)
    X, Y, _ = _data("mse")
    return model, train_step, tg.Tensor(X), tg.Tensor(Y)


def test_load_state_dict_into_new_arrays_is_detected():
    model, train_step, X, Y = _sgd_setup()
    twin, twin_step, _, _ = _sgd_setup()
    step = tg.jit(train_step)
    start = model.state_dict()
    for _ in range(3):
        step(X, Y)
    model.load_state_dict(start)  # new arrays: the tape's guards see them
    twin.load_state_dict(start)
    assert step(X, Y).item() == twin_step(X, Y).item()
    assert step.recordings == 2
    _same_state(model, twin)


def test_param_data_assignment_is_detected():
    model, train_step, X, Y = _sgd_setup()
    twin, twin_step, _, _ = _sgd_setup()
    step = tg.jit(train_step)
    for m, f in ((model, step), (twin, twin_step)):
        f(X, Y)
        m[0].weight.data = np.full((3, 4), 0.5, np.float32)
        f(X, Y)
    assert step.recordings == 2
    _same_state(model, twin)
    assert not np.array_equal(model[0].weight.data, np.full((3, 4), 0.5))  # updated


def test_replaced_parameter_object_is_detected():
    model, _, X, _ = _sgd_setup()
    step = tg.jit(lambda x: model(x))
    step(X)
    model[0].weight = nn.Parameter(np.zeros((3, 4), np.float32))
    out = step(X)
    assert step.recordings == 2
    with tg.no_grad():
        assert np.array_equal(out.data, model(X).data)


def test_train_and_eval_modes_get_their_own_tapes():
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Dropout(0.5))
    step = tg.jit(lambda x: model(x))
    x = tg.Tensor(np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32))
    step(x)
    model.eval()
    out = step(x)
    assert step.recordings == 2
    with tg.no_grad():
        assert np.array_equal(out.data, model(x).data)
    model.train()
    step(x)
    assert step.recordings == 3


def test_grad_mode_is_part_of_the_signature():
    model, _, X, _ = _sgd_setup()
    step = tg.jit(lambda x: model(x))
    step(X)
    with tg.no_grad():
        out = step(X)
        assert np.array_equal(out.data, model(X).data)
    assert step.recordings == 2


def test_returned_tensors_are_copies_not_reused_buffers():
    model, train_step, X, Y = _sgd_setup()
    step = tg.jit(train_step)
    first = step(X, Y)
    kept = first.item()
    second = step(X, Y)
    assert first.item() == kept != second.item()
    assert not second.requires_grad and step(X, Y).data is not second.data


def test_item_inside_the_step_refuses_naming_the_line():
    model, _, X, Y = _sgd_setup()

    def step(X, Y):
        loss = F.mse_loss(model(X), Y)
        cost = loss.item()  # the offending line
        return cost

    with pytest.raises(tg.JitError, match=r"\.item\(\).*test_jit\.py:\d+: +cost = loss"):
        tg.jit(step)(X, Y)


def test_python_branch_on_a_tensor_refuses():
    model, _, X, _ = _sgd_setup()

    def step(X):
        out = model(X)
        if out.sum() > 0:
            return out * 2
        return out

    with pytest.raises(tg.JitError, match=r"bool\(tensor\).*if out.sum\(\) > 0"):
        tg.jit(step)(X)


def test_random_draws_other_than_dropout_refuse():
    step = tg.jit(lambda x: x + tg.randn(*x.shape))
    with pytest.raises(tg.JitError, match="random draw.*tg.randn"):
        step(tg.ones(2, 2))


def test_tg_grad_inside_the_step_refuses():
    w = tg.Tensor(np.ones(2), requires_grad=True)
    step = tg.jit(lambda x: tg.grad((x * w).sum(), w))
    with pytest.raises(tg.JitError, match="tg.grad"):
        step(tg.ones(2))


def test_setting_grad_to_none_by_hand_is_detected():
    x = tg.Tensor(np.ones(3), requires_grad=True)

    def step(x):
        x.grad = None  # not seen by the recording: zero_grad() is
        (x * x).sum().backward()

    compiled = tg.jit(step)
    compiled(x)
    with pytest.raises(tg.JitError, match="set to None.*zero_grad"):
        compiled(x)


def test_gradients_accumulate_without_zero_grad_as_eagerly():
    x = tg.Tensor(np.arange(3.0), requires_grad=True)
    twin = tg.Tensor(np.arange(3.0), requires_grad=True)

    def step(x):
        (x * x).sum().backward()

    compiled = tg.jit(step)
    for _ in range(4):
        compiled(x)
        step(twin)
    assert np.array_equal(x.grad, twin.grad)
    assert np.array_equal(x.grad, 4 * 2 * np.arange(3.0))


def test_numpy_changes_behind_the_engines_back_refuse():
    model, _, X, Y = _sgd_setup()
    opt = optim.SGD(model.parameters(), lr=0.1)

    def step(X, Y):
        opt.zero_grad()
        F.mse_loss(model(X), Y).backward()
        for p in model.parameters():
            p.grad *= 0.5  # gradient scaling by hand: invisible to a replay
        opt.step()

    with pytest.raises(tg.JitError, match="did not give the eager value"):
        tg.jit(step)(X, Y)


def test_an_inference_step_and_an_explicit_backward_seed():
    x = tg.Tensor(np.linspace(0.5, 1.5, 6).reshape(2, 3), requires_grad=True)
    seed = np.full((2, 3), 2.0)

    def chain(x):
        x.zero_grad()
        y = ((x * 1.5 + 2) / 3 - 0.5).exp().log() * x
        y.backward(seed)
        return y

    compiled = tg.jit(chain)
    for _ in range(3):
        out = compiled(x)
    eager_x = tg.Tensor(x.data.copy(), requires_grad=True)
    expected = chain(eager_x)
    assert np.array_equal(out.data, expected.data)
    assert np.array_equal(x.grad, eager_x.grad)


def test_a_new_input_tensor_object_gets_the_gradient():
    w = tg.Tensor(np.ones(3), requires_grad=True)
    step = tg.jit(lambda x: (x * w).sum().backward())
    xs = [tg.Tensor(np.arange(3.0) + k, requires_grad=True) for k in range(4)]
    for x in xs:
        step(x)
    assert step.recordings == 2  # w.grad was None on the first call only
    for x in xs:
        assert np.array_equal(x.grad, np.ones(3))
    assert np.array_equal(w.grad, sum(x.data for x in xs))


def test_the_tape_prints_the_course_notation():
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    step = tg.jit(_step(model, optim.SGD(model.parameters(), lr=0.1),
                        F.binary_cross_entropy_with_logits))
    with pytest.raises(RuntimeError, match="call the step once"):
        step.tape()
    step(tg.Tensor(np.ones((4, 2), np.float32)), tg.Tensor(np.ones((4, 1), np.float32)))
    text = str(step.tape())
    expected = ["Z1 = X @ W1ᵀ + b1", "A1 = relu(Z1)", "Z2 = A1 @ W2ᵀ + b2", "dJ = 1",
                "dZ2 = dJ * (σ(Z2) − Y)/m", "dW2 = dZ2ᵀ @ A1", "db2 = Σᵢ dZ2",
                "dZ1 = dA1 * [Z1 > 0]", "dW1 = dZ1ᵀ @ X", "W1 -= α·dW1", "b2 -= α·db2"]
    lines = [re.split(r"\s{3,}", line)[0] for line in text.splitlines()]
    for want in expected:
        assert want in lines, (want, text)
    assert lines.index("A1 = relu(Z1)") < lines.index("dJ = 1") < lines.index("W1 -= α·dW1")
    assert "4×3" in text  # shapes on the right


def test_jit_as_a_decorator_and_bad_arguments():
    @tg.jit(cache_size=1)
    def double(x):
        return x * 2

    assert double(tg.ones(2)).tolist() == [2.0, 2.0]
    double(tg.ones(3))
    assert len(double.cache) == 1
    with pytest.raises(TypeError, match="expected a function"):
        tg.jit(3)
    with pytest.raises(ValueError, match="cache_size"):
        tg.jit(lambda: None, cache_size=0)


_UNARY = {"exp": lambda t: (t * 0.1).exp(), "tanh": lambda t: t.tanh(),
          "sigmoid": lambda t: t.sigmoid(), "relu": lambda t: t.relu(),
          "neg": lambda t: -t, "log": lambda t: (t * t + 1).log()}
_BINARY = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
           "div": lambda a, b: a / (b * b + 1)}


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_random_graphs_with_broadcasting_replay_the_eager_gradients(data):
    """Random op chains over broadcast shapes (x: (m, n), b: (n,) or (1, n) or (m, 1)):
    the compiled step's gradients equal the eager ones bit for bit."""
    m, n = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    b_shape = data.draw(st.sampled_from([(n,), (1, n), (m, 1), ()]))
    dtype = data.draw(st.sampled_from([np.float32, np.float64]))
    plan = data.draw(st.lists(st.tuples(st.sampled_from(sorted(_UNARY)),
                                        st.sampled_from(sorted(_BINARY))), min_size=1,
                              max_size=5))
    reduce_ = data.draw(st.sampled_from(["sum", "mean", "matmul"]))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))

    def run(x, b, w):
        x.zero_grad(), b.zero_grad(), w.zero_grad()
        h = x
        for u, op in plan:
            h = _BINARY[op](_UNARY[u](h), b)
        out = (h @ w).sum() if reduce_ == "matmul" else getattr(h, reduce_)()
        out.backward()
        return out

    def fresh():
        r = np.random.default_rng(1)
        return (tg.Tensor(r.standard_normal((m, n)).astype(dtype), requires_grad=True),
                tg.Tensor(r.standard_normal(b_shape).astype(dtype), requires_grad=True),
                tg.Tensor(r.standard_normal((n, 2)).astype(dtype), requires_grad=True))

    eager, compiled = fresh(), fresh()
    step = tg.jit(run)
    for _ in range(2):
        x_new = rng.standard_normal((m, n)).astype(dtype)
        eager[0].data, compiled[0].data = x_new.copy(), x_new.copy()
        out_e, out_j = run(*eager), step(*compiled)
        assert np.array_equal(out_e.data, out_j.data)
        for te, tj in zip(eager, compiled):
            assert np.array_equal(te.grad, tj.grad)


def test_a_compiled_step_called_inside_another_is_recorded_as_part_of_it():
    w = tg.Tensor(np.ones(2), requires_grad=True)
    inner = tg.jit(lambda x: x * w)
    inner(tg.ones(2))  # has its own tape, but inside the outer recording it runs eagerly
    outer = tg.jit(lambda x: inner(x).sum() + (x > 0.5).sum())
    for v in (1.0, 2.0, 0.0):
        assert outer(tg.full((2,), v)).item() == 2 * v + 2 * (v > 0.5)
    assert outer.recordings == 1


def test_integer_inputs_converted_inside_the_step_follow_each_call():
    w = tg.Tensor(np.ones(3, np.float32), requires_grad=True)

    def step(counts, labels):
        rate = counts * 0.5 + (labels == 1).sum()  # int → float inside the step
        return (F.sigmoid(labels) * rate * w).sum() + counts.astype(np.float32).mean()

    compiled = tg.jit(step)
    for k in range(3):
        counts = tg.Tensor(np.arange(3) + k)
        labels = tg.Tensor(np.array([k % 2, 1, 2]))
        assert compiled(counts, labels).item() == step(counts, labels).item()
    assert compiled.recordings == 1


def test_replays_read_the_arguments_arrays_without_copying_them():
    model, train_step, X, Y = _sgd_setup()
    step = tg.jit(train_step)
    step(X, Y)
    tape = step.cache[next(iter(step.cache))]
    assert not tape.inputs and len(tape.rebinds) == 2  # X and Y are read where they are
    X2 = tg.Tensor(X.data[::-1].copy())
    twin, twin_step, _, _ = _sgd_setup()
    twin_step(X, Y)
    assert step(X2, Y).item() == twin_step(X2, Y).item()
    assert X2.data.flags.writeable and X.data.flags.writeable  # user arrays untouched


def test_an_argument_used_through_a_view_is_copied_into_the_tape():
    w = tg.Tensor(np.ones((2, 2)), requires_grad=True)
    step = tg.jit(lambda x: (x.T @ w).sum())
    a = np.arange(6.0).reshape(2, 3)
    step(tg.Tensor(a))
    tape = step.cache[next(iter(step.cache))]
    assert tape.inputs and not tape.rebinds
    assert step(tg.Tensor(a + 1)).item() == ((a + 1).T @ np.ones((2, 2))).sum()


def test_a_tensor_made_from_numpy_inside_the_step_must_stay_constant():
    w = tg.Tensor(np.ones(3), requires_grad=True)
    fixed = tg.jit(lambda x: (x * tg.Tensor(np.full(3, 2.0)) * w).sum())
    for k in range(3):
        assert fixed(tg.full((3,), float(k))).item() == 6.0 * k
    assert fixed.recordings == 2  # the second call checked the constant

    def step(x):
        scale = tg.Tensor(x.data.max(axis=0, keepdims=True))  # NumPy on the data
        return (x / scale * w).sum()

    compiled = tg.jit(step)
    compiled(tg.Tensor(np.arange(1.0, 4.0)))
    with pytest.raises(tg.JitError, match=r"made from a NumPy array.*scale = tg.Tensor"):
        compiled(tg.Tensor(np.arange(2.0, 5.0)))


def test_detect_anomaly_runs_the_step_eagerly():
    step = tg.jit(lambda x: (x.log() * 2).sum())
    step(tg.ones(2, requires_grad=True))
    with tg.detect_anomaly(), pytest.raises(tg.AnomalyError, match="log"):
        step(tg.Tensor(np.array([1.0, -1.0]), requires_grad=True))
    assert step.recordings == 1


def test_schedules_and_optimiser_checkpoints_between_replays_act_as_eagerly():
    runs = []
    for compile_ in (False, True):
        model, opt, train_step, X, Y = _setup("mlp_relu", "bce_logits", "adam")
        step = tg.jit(train_step) if compile_ else train_step
        sched = optim.lr_scheduler.InverseTimeDecay(opt, decay_rate=0.5)
        losses = _train(step, X, Y, 6)
        saved_opt, saved_model = opt.state_dict(), model.state_dict()
        sched.step()
        losses += _train(step, X, Y, 4)
        opt.load_state_dict(saved_opt)  # back to the checkpoint: new state arrays
        model.load_state_dict(saved_model)
        losses += _train(step, X, Y, 4)
        runs.append((losses, model.state_dict(), opt.state_dict()))
    (l_e, m_e, o_e), (l_j, m_j, o_j) = runs
    assert l_e == l_j
    for k in m_e:
        assert np.array_equal(m_e[k], m_j[k])
    for i, s in o_e["state"].items():
        for key in s:
            assert np.array_equal(s[key], o_j["state"][i][key])


def test_an_explicit_l2_cost_term_replays_bit_for_bit():
    """The course's regularised cost J + λ/(2m)·Σ‖W‖² written with tensor ops."""
    runs = []
    for compile_ in (False, True):
        model, opt, _, X, Y = _setup("mlp_tanh", "sigmoid_bce", "sgd")
        weights = [layer.weight for layer in model if isinstance(layer, nn.Linear)]

        def cost(out, y, weights=weights):
            l2 = sum((w ** 2).sum() for w in weights) + sum(w.square().sum() for w in weights)
            return nn.BCELoss()(out.sigmoid(), y) + 0.7 / (2 * len(y)) * l2

        step = _step(model, opt, cost)
        runs.append((_train(tg.jit(step) if compile_ else step, X, Y, 40), model.state_dict()))
    assert runs[0][0] == runs[1][0]
    for k, v in runs[0][1].items():
        assert np.array_equal(v, runs[1][1][k])


def test_a_matrix_product_after_a_sum_sees_the_eager_memory_layout():
    """(h @ w).sum(): the gradient reaching the product is sum's broadcast view (zero
    strides), for which NumPy adds in another order than for a contiguous array; the tape
    must hand the product that same view (found by the random-graph test)."""
    r = np.random.default_rng(0)
    data = [r.standard_normal(s).astype(np.float32) for s in ((64, 1), (1,), (1, 2))]

    def run(x, b, w):
        x.zero_grad(), b.zero_grad(), w.zero_grad()
        ((x.exp() + b) @ w).sum().backward()

    eager = [tg.Tensor(d.copy(), requires_grad=True) for d in data]
    compiled = [tg.Tensor(d.copy(), requires_grad=True) for d in data]
    step = tg.jit(run)
    for _ in range(2):
        run(*eager)
        step(*compiled)
        for te, tj in zip(eager, compiled):
            assert np.array_equal(te.grad, tj.grad)


def test_another_thread_runs_eagerly_while_a_step_records():
    import threading

    started, release = threading.Event(), threading.Event()
    w = tg.Tensor(np.ones(2), requires_grad=True)

    def slow(x):
        out = x * w
        started.set()
        release.wait(5)
        return out.sum()

    results = []
    recording = threading.Thread(target=lambda: results.append(tg.jit(slow)(tg.ones(2))))
    recording.start()
    started.wait(5)
    other = tg.jit(lambda x: (x * 3).sum())
    assert other(tg.ones(2)).item() == 6.0 and other.recordings == 0  # ran eagerly
    release.set()
    recording.join()
    assert results[0].item() == 2.0
    assert other(tg.ones(2)).item() == 6.0 and other.recordings == 1


class _ShrinkingAdam(optim.Adam):
    """Adam whose update reads the weights' values (a user's subclass): it inherits
    ``update_reads_weights = False`` from Adam, but overrides ``update``."""

    def update(self, w, grad, group, state):
        return super().update(w, grad, group, state) + 1e-3 * w


@pytest.mark.parametrize("make_opt", [
    OPTIMISERS["adam"], OPTIMISERS["adamw"], OPTIMISERS["sgd_momentum"],
    lambda p: optim.Adam(p, lr=1e-2, weight_decay=1e-2), lambda p: _ShrinkingAdam(p, lr=1e-2)],
    ids=["adam", "adamw", "sgd_wd", "adam_wd", "subclass"])
def test_weights_changed_in_place_between_replays_reach_the_flat_update(make_opt):
    """The flat update joins the weights only for rules that read them (weight decay, a
    subclass's own ``update``): changes made between steps must reach it as eagerly."""
    runs = []
    for compile_ in (False, True):
        tg.manual_seed(7)
        X, Y, _ = _data("sigmoid_bce")
        model = _model("mlp_relu", X.shape[1], 1)
        opt = make_opt(model.parameters())
        train_step = _step(model, opt, _losses("sigmoid_bce"))
        step = tg.jit(train_step) if compile_ else train_step
        losses = []
        for k in range(12):
            losses += _train(step, X, Y, 1)
            with tg.no_grad():
                for p in model.parameters():
                    p.data *= 0.5 if k % 4 == 1 else 1.0
        runs.append((losses, model.state_dict()))
    assert runs[0][0] == runs[1][0]
    for k, v in runs[0][1].items():
        assert np.array_equal(v, runs[1][1][k]), k


def test_the_flat_update_reads_the_tapes_gradients_in_place():
    """The gradients a replay hands to ``.grad`` are slices of one array laid end to end,
    which the optimiser reads without joining them; the weights are not joined for Adam."""
    model, opt, train_step, X, Y = _setup("mlp_relu", "bce_logits", "adam")
    step = tg.jit(train_step)
    _train(step, X, Y, 3)
    grads = [p.grad for p in model.parameters()]
    base = grads[0].base
    assert base is not None and base.ndim == 1
    assert all(g.base is base for g in grads)
    assert sum(g.size for g in grads) == base.size
    (args,) = [a for f, a in step._last.program if getattr(f, "__name__", "") == "_flat_step"]
    (group,) = args[1]
    assert group[3] is None and group[5] is base and group[7] is False  # nothing joined
    assert len(group[8]) == 2  # Adam computes in two scratch arrays of the tape


def test_plain_sgd_on_large_layers_replays_in_chunks_bit_for_bit():
    """A layer over ``SGD_CHUNK`` weights, two groups with their own rates, a schedule, then
    momentum switched on between replays (the replay hands over to the optimiser's step)."""
    from tinygrad_ng import jit_optim

    runs = []
    for compile_ in (False, True):
        tg.manual_seed(3)
        X, Y, _ = _data("softmax_ce", m=48, n_in=300)
        model = nn.Sequential(nn.Linear(300, 300), nn.ReLU(), nn.Linear(300, 3))
        assert model[0].weight.data.size > jit_optim.SGD_CHUNK
        opt = optim.SGD([{"params": model[0].parameters()},
                         {"params": model[2].parameters(), "lr": 0.03}], lr=0.05)
        sched = optim.lr_scheduler.InverseTimeDecay(opt, decay_rate=0.5)
        train_step = _step(model, opt, F.cross_entropy)
        step = tg.jit(train_step) if compile_ else train_step
        losses = _train(step, X, Y, 5)
        if compile_:
            assert any(f is jit_optim._sgd_step for f, _ in step._last.program)
        sched.step()
        losses += _train(step, X, Y, 5)
        opt.param_groups[1]["momentum"] = 0.9
        losses += _train(step, X, Y, 5)
        runs.append((losses, model.state_dict()))
    assert runs[0][0] == runs[1][0]
    for k, v in runs[0][1].items():
        assert np.array_equal(v, runs[1][1][k]), k


def test_gradients_are_swapped_for_flat_views_only_where_every_use_can_follow():
    """The compiler's ``_replace`` swaps an array in the tape's arguments (tuples, lists,
    dicts); ``_mentions`` finds it there and refuses an array held in a partial or through
    a view, where it could not be swapped."""
    import functools

    from tinygrad_ng.jit_optim import _mentions, _replace

    buf, other, view = np.zeros(4), np.ones(4), np.zeros(6)
    args = (buf, [other, (buf, 2)], {"out": buf})
    assert _mentions(args, {id(buf): buf})
    assert not _mentions((other, [other], {"a": 1}, functools.partial(np.add, other)),
                         {id(buf): buf})
    swapped = _replace(args, {id(buf): view})
    assert swapped[0] is view and swapped[1][1][0] is view and swapped[2]["out"] is view
    assert swapped[1][0] is other
    for held in (functools.partial(np.maximum, out=buf), buf[1:], buf.reshape(2, 2).T):
        with pytest.raises(LookupError):
            _mentions((other, held), {id(buf): buf})
