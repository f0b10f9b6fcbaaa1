"""Optimisers against their formulas written out in NumPy, state-dict resumption, schedulers."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_ng as tg
from tinygrad_ng import nn, optim

lr_scheduler = optim.lr_scheduler

STEPS = 6
SHAPES = [(3, 2), (4,)]


def _grads(seed: int, steps: int = STEPS) -> list[list[np.ndarray]]:
    """A fixed sequence of gradients (one list per step, one array per parameter)."""
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(s) for s in SHAPES] for _ in range(steps)]


def _run(make_opt, grads, dtype=np.float64) -> list[np.ndarray]:
    """Drive an optimiser with the given gradients; return the final parameter values."""
    rng = np.random.default_rng(123)
    params = [tg.Tensor(rng.standard_normal(s).astype(dtype), requires_grad=True)
              for s in SHAPES]
    opt = make_opt(params)
    for step in grads:
        for p, g in zip(params, step):
            p.grad = g.astype(dtype)
        opt.step()
    return [p.data for p in params]


def _initial() -> list[np.ndarray]:
    rng = np.random.default_rng(123)
    return [rng.standard_normal(s) for s in SHAPES]


def _reference(update, grads) -> list[np.ndarray]:
    """Apply ``update(w, g, state, t) -> new w`` per parameter (t counts from 1)."""
    ws = _initial()
    states = [{} for _ in ws]
    for t, step in enumerate(grads, 1):
        ws = [update(w, g, s, t) for w, g, s in zip(ws, step, states)]
    return ws


def _assert_close(got, want, rtol=1e-12, atol=1e-12):
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


# ----------------------------------------------------------------------------- SGD


@given(lr=st.floats(1e-3, 1.0), momentum=st.sampled_from([0.0, 0.5, 0.9]),
       dampening=st.sampled_from([0.0, 0.1, 0.5]), nesterov=st.booleans(),
       weight_decay=st.sampled_from([0.0, 1e-2, 0.3]), seed=st.integers(0, 2**16))
def test_sgd_matches_pytorch_rule(lr, momentum, dampening, nesterov, weight_decay, seed):
    if nesterov and (momentum == 0 or dampening != 0):
        with pytest.raises(ValueError, match="nesterov"):
            optim.SGD([tg.ones(2, requires_grad=True)], lr=lr, momentum=momentum,
                      dampening=dampening, nesterov=True)
        return

    def update(w, g, state, t):
        # torch.optim.SGD's documented algorithm
        g = g + weight_decay * w
        if momentum != 0:
            if t > 1:
                state["b"] = momentum * state["b"] + (1 - dampening) * g
            else:
                state["b"] = g
            g = g + momentum * state["b"] if nesterov else state["b"]
        return w - lr * g

    grads = _grads(seed)
    got = _run(lambda ps: optim.SGD(ps, lr=lr, momentum=momentum, dampening=dampening,
                                    nesterov=nesterov, weight_decay=weight_decay), grads)
    _assert_close(got, _reference(update, grads))


@given(lr=st.floats(1e-3, 1.0), beta=st.floats(0.0, 0.99), seed=st.integers(0, 2**16))
def test_momentum_matches_course_rule(lr, beta, seed):
    def update(w, g, state, t):
        v = state.get("v", np.zeros_like(w))  # v₀ = 0
        state["v"] = beta * v + (1 - beta) * g
        return w - lr * state["v"]

    grads = _grads(seed)
    got = _run(lambda ps: optim.Momentum(ps, lr=lr, beta=beta), grads)
    _assert_close(got, _reference(update, grads))


@given(lr=st.floats(1e-4, 0.1), alpha=st.floats(0.5, 0.999), eps=st.sampled_from([1e-8, 1e-3]),
       seed=st.integers(0, 2**16))
def test_rmsprop_matches_formula(lr, alpha, eps, seed):
    def update(w, g, state, t):
        state["s"] = alpha * state.get("s", 0.0) + (1 - alpha) * g**2
        return w - lr * g / (np.sqrt(state["s"]) + eps)

    grads = _grads(seed)
    got = _run(lambda ps: optim.RMSprop(ps, lr=lr, alpha=alpha, eps=eps), grads)
    _assert_close(got, _reference(update, grads), rtol=1e-10)


def _adam_reference(lr, b1, b2, eps, wd, decoupled):
    def update(w, g, state, t):
        if wd and not decoupled:
            g = g + wd * w
        state["v"] = b1 * state.get("v", 0.0) + (1 - b1) * g
        state["s"] = b2 * state.get("s", 0.0) + (1 - b2) * g**2
        v_hat = state["v"] / (1 - b1**t)
        s_hat = state["s"] / (1 - b2**t)
        if decoupled:
            w = w - lr * wd * w
        return w - lr * v_hat / (np.sqrt(s_hat) + eps)

    return update


@given(lr=st.floats(1e-4, 0.1), b1=st.floats(0.0, 0.95), b2=st.floats(0.9, 0.9999),
       wd=st.sampled_from([0.0, 0.01, 0.5]), seed=st.integers(0, 2**16))
def test_adam_matches_course_formula(lr, b1, b2, wd, seed):
    grads = _grads(seed)
    got = _run(lambda ps: optim.Adam(ps, lr=lr, betas=(b1, b2), weight_decay=wd), grads)
    _assert_close(got, _reference(_adam_reference(lr, b1, b2, 1e-8, wd, False), grads),
                  rtol=1e-10)


@given(lr=st.floats(1e-4, 0.1), wd=st.sampled_from([0.0, 0.01, 0.5]), seed=st.integers(0, 2**16))
def test_adamw_matches_decoupled_formula(lr, wd, seed):
    grads = _grads(seed)
    got = _run(lambda ps: optim.AdamW(ps, lr=lr, weight_decay=wd), grads)
    _assert_close(got, _reference(_adam_reference(lr, 0.9, 0.999, 1e-8, wd, True), grads),
                  rtol=1e-10)


def test_adam_first_step_moves_each_weight_by_lr():
    # bias correction makes V̂ = dW and Ŝ = dW² on step 1, so every weight moves by ±lr
    w = tg.Tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    w.grad = np.array([0.5, -7.0, 1e-3])
    optim.Adam([w], lr=0.1).step()
    np.testing.assert_allclose(w.data, [0.9, -1.9, 2.9], rtol=1e-6)


def test_adamw_defaults_are_pytorchs():
    opt = optim.AdamW([tg.ones(2, requires_grad=True)])
    group = opt.param_groups[0]
    assert (group["lr"], group["betas"], group["eps"], group["weight_decay"]) == \
        (1e-3, (0.9, 0.999), 1e-8, 1e-2)


@pytest.mark.parametrize("make", [
    lambda ps, wd: optim.SGD(ps, lr=0.1, weight_decay=wd),
    lambda ps, wd: optim.Momentum(ps, lr=0.1, weight_decay=wd),
    lambda ps, wd: optim.RMSprop(ps, lr=0.01, weight_decay=wd),
    lambda ps, wd: optim.Adam(ps, lr=0.01, weight_decay=wd),
])
def test_l2_weight_decay_is_lambda_over_m_times_w_added_to_dw(make):
    """weight_decay = λ/m gives the same updates as backpropagating the course's L2 cost
    J + λ/(2m)·‖W‖² with no weight decay in the optimiser."""
    lam, m = 0.7, 8
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((m, 3)), rng.standard_normal((m, 1))
    runs = []
    for l2_in_cost in (True, False):
        W = tg.Tensor(rng.standard_normal((1, 3)) if not runs else runs[0][0].copy(),
                      requires_grad=True)
        start = W.data.copy()
        opt = make([W], 0.0 if l2_in_cost else lam / m)
        for _ in range(5):
            opt.zero_grad()
            cost = ((tg.Tensor(X) @ W.T - tg.Tensor(Y)) ** 2).mean()
            if l2_in_cost:
                cost = cost + lam / (2 * m) * (W * W).sum()
            cost.backward()
            opt.step()
        runs.append((start, W.data.copy()))
    np.testing.assert_allclose(runs[0][1], runs[1][1], rtol=1e-10)
    assert not np.allclose(runs[0][0], runs[0][1])


# ----------------------------------------------------------------------------- mechanics

ALL = [
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3),
    lambda ps: optim.Momentum(ps, lr=0.1, beta=0.9),
    lambda ps: optim.RMSprop(ps, lr=0.01),
    lambda ps: optim.Adam(ps, lr=0.01, weight_decay=1e-3),
    lambda ps: optim.AdamW(ps, lr=0.01),
]


@pytest.mark.parametrize("make", ALL)
def test_updates_keep_float32(make):
    w = tg.randn(3, 2, requires_grad=True)
    opt = make([w])
    for _ in range(3):
        w.grad = np.random.default_rng(1).standard_normal((3, 2))  # a float64 gradient
        opt.step()
        assert w.dtype == np.float32
    for value in opt.state[w].values():
        if isinstance(value, np.ndarray):
            assert value.dtype == np.float32


@pytest.mark.parametrize("make", ALL)
def test_step_is_in_place_when_writeable_and_rebinds_when_locked(make):
    w = tg.randn(4, requires_grad=True)
    opt = make([w])
    array = w.data
    (w * w).sum().backward()
    opt.step()
    assert w.data is array  # updated in place
    before = w.data.copy()
    y = (w * w).sum()  # saves w.data for backward: it is read-only now
    assert not w.data.flags.writeable
    w.grad = np.ones(4, np.float32)
    opt.step()
    assert w.data is not array and not np.array_equal(w.data, before)
    y.backward()  # the pending graph still sees the old, untouched values
    np.testing.assert_allclose(w.grad, 1 + 2 * before)


def test_step_records_no_graph_and_skips_parameters_without_grad():
    a, b = tg.ones(2, requires_grad=True), tg.ones(2, requires_grad=True)
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = np.ones(2, np.float32)
    opt.step()
    assert a.is_leaf and not np.allclose(a.data, 1)
    np.testing.assert_array_equal(b.data, [1, 1])
    assert b not in opt.state


def test_zero_grad_clears_every_group():
    a, b = tg.ones(2, requires_grad=True), tg.ones(3, requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    a.grad, b.grad = np.ones(2), np.ones(3)
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_param_groups_use_their_own_hyperparameters():
    a, b = tg.zeros(1, requires_grad=True), tg.zeros(1, requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    a.grad = b.grad = np.ones(1, np.float32)
    opt.step()
    np.testing.assert_allclose([a.item(), b.item()], [-0.1, -0.5], rtol=1e-6)


@pytest.mark.parametrize("params, match", [
    ([], "empty"),
    ([tg.Tensor([1, 2])], "dtype"),
    ([tg.ones(2, requires_grad=True) * 2], "leaf"),
    (None, "more than once"),
])
def test_bad_parameters_raise_clear_errors(params, match):
    if params is None:
        w = tg.ones(2, requires_grad=True)
        params = [w, w]
    with pytest.raises((ValueError, TypeError), match=match):
        optim.SGD(params, lr=0.1)


def test_bad_hyperparameters_raise_clear_errors():
    w = tg.ones(2, requires_grad=True)
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(w, lr=0.1)
    with pytest.raises(ValueError, match="lr"):
        optim.SGD([w], lr=-1)
    with pytest.raises(ValueError, match="beta2"):
        optim.Adam([w], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="beta"):
        optim.Momentum([w], lr=0.1, beta=1.5)
    with pytest.raises(TypeError, match="unknown hyper-parameter"):
        optim.SGD([{"params": [w], "momentun": 0.9}], lr=0.1)


# ----------------------------------------------------------------------------- state dicts


def _problem():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((32, 3)).astype(np.float32)
    Y = (X @ np.array([[1.0], [-2.0], [0.5]], np.float32) > 0).astype(np.float32)
    return tg.Tensor(X), tg.Tensor(Y)


def _train(model, opt, sched, X, Y, steps):
    loss_fn = nn.BCEWithLogitsLoss()
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(model(X), Y).backward()
        opt.step()
        sched.step()


@pytest.mark.parametrize("make", ALL)
def test_resume_from_saved_state_reproduces_training_exactly(make, tmp_path):
    X, Y = _problem()

    def fresh():
        tg.manual_seed(3)
        model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 1))
        opt = make(model.parameters())
        return model, opt, lr_scheduler.ExponentialLR(opt, gamma=0.9)

    model, opt, sched = fresh()
    _train(model, opt, sched, X, Y, 10)

    model2, opt2, sched2 = fresh()
    _train(model2, opt2, sched2, X, Y, 5)
    path = tmp_path / "ckpt.npz"
    nn.save({"model": model2, "optimizer": opt2.state_dict(),
             "scheduler": sched2.state_dict()}, path)
    del model2, opt2, sched2

    model3, opt3, sched3 = fresh()
    ckpt = nn.load(path)
    model3.load_state_dict(ckpt["model"])
    opt3.load_state_dict(ckpt["optimizer"])
    sched3.load_state_dict(ckpt["scheduler"])
    _train(model3, opt3, sched3, X, Y, 5)
    for (name, a), b in zip(model.state_dict().items(), model3.state_dict().values()):
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert opt3.param_groups[0]["lr"] == opt.param_groups[0]["lr"]


def test_state_dict_is_a_copy_and_round_trips():
    w = tg.ones(3, requires_grad=True)
    opt = optim.Adam([w], lr=0.1)
    w.grad = np.ones(3, np.float32)
    opt.step()
    sd = opt.state_dict()
    assert sd["state"][0]["step"] == 1 and sd["param_groups"][0]["params"] == [0]
    opt.step()
    assert sd["state"][0]["step"] == 1  # not aliased to the live state
    v = tg.ones(3, requires_grad=True)
    opt2 = optim.Adam([v], lr=0.5)
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["lr"] == 0.1
    np.testing.assert_array_equal(opt2.state[v]["exp_avg"], sd["state"][0]["exp_avg"])
    assert opt2.state[v]["exp_avg"] is not sd["state"][0]["exp_avg"]


def test_load_state_dict_rejects_mismatched_optimisers():
    a, b = tg.ones(3, requires_grad=True), tg.ones(2, requires_grad=True)
    opt = optim.Adam([a], lr=0.1)
    a.grad = np.ones(3, np.float32)
    opt.step()
    with pytest.raises(ValueError, match="shape"):
        optim.Adam([b]).load_state_dict(opt.state_dict())
    with pytest.raises(ValueError, match="parameters"):
        optim.Adam([a, b]).load_state_dict(opt.state_dict())
    with pytest.raises(ValueError, match="groups"):
        optim.Adam([{"params": [a]}, {"params": [b]}]).load_state_dict(opt.state_dict())
    with pytest.raises(ValueError, match="param_groups"):
        optim.Adam([a]).load_state_dict({"lr": 0.1})


# ----------------------------------------------------------------------------- schedulers


def _opt(lr):
    return optim.SGD([tg.ones(1, requires_grad=True)], lr=lr)


def test_inverse_time_decay_reproduces_course_table():
    opt = _opt(0.2)
    sched = lr_scheduler.InverseTimeDecay(opt, decay_rate=1.0)
    assert opt.param_groups[0]["lr"] == 0.2
    lrs = []
    for _ in range(4):
        sched.step()
        lrs.append(sched.get_last_lr()[0])
    np.testing.assert_allclose(lrs, [0.1, 0.2 / 3, 0.05, 0.04])
    assert [round(v, 3) for v in lrs] == [0.1, 0.067, 0.05, 0.04]


@pytest.mark.parametrize("make, formula", [
    (lambda o: lr_scheduler.ExponentialLR(o, gamma=0.95), lambda t: 0.3 * 0.95**t),
    (lambda o: lr_scheduler.StepLR(o, step_size=3, gamma=0.5), lambda t: 0.3 * 0.5 ** (t // 3)),
    (lambda o: lr_scheduler.InverseSqrtDecay(o, k=0.5), lambda t: 0.3 * 0.5 / np.sqrt(t)),
    (lambda o: lr_scheduler.InverseTimeDecay(o, decay_rate=0.3), lambda t: 0.3 / (1 + 0.3 * t)),
    (lambda o: lr_scheduler.LambdaLR(o, lambda t: 1 / (t + 1)), lambda t: 0.3 / (t + 1)),
])
def test_schedules_follow_their_closed_forms(make, formula):
    opt = _opt(0.3)
    sched = make(opt)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.3)
    for t in range(1, 10):
        sched.step()
        assert opt.param_groups[0]["lr"] == pytest.approx(formula(t), rel=1e-12)


def test_scheduler_state_round_trip_and_groups():
    a, b = tg.ones(1, requires_grad=True), tg.ones(1, requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    sched = lr_scheduler.StepLR(opt, step_size=2)
    for _ in range(3):
        sched.step()
    assert sched.get_last_lr() == pytest.approx([0.01, 0.1])
    opt2 = optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    sched2 = lr_scheduler.StepLR(opt2, step_size=2)
    sched2.load_state_dict(sched.state_dict())
    sched.step()
    sched2.step()
    assert sched2.get_last_lr() == sched.get_last_lr() == pytest.approx([0.001, 0.01])


def test_scheduler_validates_arguments():
    with pytest.raises(TypeError, match="Optimizer"):
        lr_scheduler.ExponentialLR("sgd", gamma=0.9)
    with pytest.raises(ValueError, match="step_size"):
        lr_scheduler.StepLR(_opt(0.1), step_size=0)
    with pytest.raises(ValueError, match="decay_rate"):
        lr_scheduler.InverseTimeDecay(_opt(0.1), decay_rate=-1)
