"""PyTorch's nn and optim names: the new layers and losses, Module.to / requires_grad_ /
zero_grad(set_to_none), Adagrad and the schedulers (numbers from PyTorch's documented
formulas, worked out by hand)."""

import numpy as np
import pytest
import tinygrad_ng.nn as nn
from tinygrad_ng.optim import lr_scheduler

import tinygrad_ng as tg
import tinygrad_ng.functional as F
from tinygrad_ng import Tensor, optim


# ------------------------------------------------------------------ layers and losses
@pytest.mark.parametrize("layer, fn", [
    (nn.GELU(), F.gelu), (nn.GELU("tanh"), lambda z: F.gelu(z, approximate="tanh")),
    (nn.SiLU(), F.silu), (nn.ELU(0.5), lambda z: F.elu(z, 0.5)), (nn.SELU(), F.selu),
    (nn.Softplus(2.0), lambda z: F.softplus(z, 2.0)), (nn.Mish(), F.mish),
    (nn.Hardtanh(-2, 2), lambda z: F.hardtanh(z, -2, 2)), (nn.ReLU6(), F.relu6),
    (nn.Hardswish(), F.hardswish), (nn.Identity(54, unused=0.1), lambda z: z)])
def test_activation_layers_call_their_function(layer, fn):
    z = Tensor(np.linspace(-5, 5, 11))
    np.testing.assert_array_equal(layer(z).data, fn(z).data)
    assert not list(layer.parameters())


def test_layer_norm_layer():
    ln = nn.LayerNorm(4)
    assert ln.weight.shape == (4,) and ln.bias.shape == (4,)
    assert set(ln.state_dict()) == {"weight", "bias"}
    x = Tensor(np.arange(8.0).reshape(2, 4))
    np.testing.assert_allclose(ln(x).data, F.layer_norm(x, (4,)).data)
    ln.eval()  # no batch statistics: the same in evaluation
    np.testing.assert_allclose(ln(x).data, F.layer_norm(x, (4,)).data)
    bare = nn.LayerNorm((2, 4), elementwise_affine=False)
    assert not list(bare.parameters()) and bare.weight is None
    assert bare(x.reshape(1, 2, 4)).shape == (1, 2, 4)
    assert nn.LayerNorm(4, bias=False).bias is None
    assert "LayerNorm((4,), eps=1e-05)" in repr(ln)
    with pytest.raises(ValueError, match="LayerNorm: normalized_shape must be a positive int"):
        nn.LayerNorm(0)


def test_batchnorm_without_affine_or_running_stats():
    bn = nn.BatchNorm1d(3, affine=False, track_running_stats=False)
    assert not list(bn.parameters()) and bn.state_dict() == {}
    assert bn.running_mean is None and bn.gamma is None
    x = Tensor(np.random.default_rng(0).standard_normal((6, 3)) * 3 + 1)
    ref = (x.data - x.data.mean(0)) / np.sqrt(x.data.var(0) + 1e-5)
    np.testing.assert_allclose(bn(x).data, ref, rtol=1e-5)
    bn.eval()  # no running statistics: the batch's, as PyTorch
    np.testing.assert_allclose(bn(x).data, ref, rtol=1e-5)
    tracked = nn.BatchNorm1d(3, affine=False)
    tracked(x)
    assert set(tracked.state_dict()) == {"running_mean", "running_var"}
    assert "affine=False" in repr(tracked)


def test_loss_modules():
    z = Tensor(np.random.default_rng(1).standard_normal((4, 3)))
    y = np.array([0, 2, 1, 1])
    logp = z.log_softmax(dim=1)
    np.testing.assert_allclose(nn.NLLLoss()(logp, y).data, F.nll_loss(logp, y).data)
    np.testing.assert_allclose(nn.NLLLoss(reduction="sum", ignore_index=2)(logp, y).data,
                               F.nll_loss(logp, y, reduction="sum", ignore_index=2).data)
    t = Tensor(np.zeros((4, 3)))
    np.testing.assert_allclose(nn.L1Loss()(z, t).data, np.abs(z.data).mean())
    np.testing.assert_allclose(nn.SmoothL1Loss(beta=0.5)(z, t).data,
                               F.smooth_l1_loss(z, t, beta=0.5).data)
    np.testing.assert_allclose(nn.HuberLoss(delta=2.0, reduction="sum")(z, t).data,
                               F.huber_loss(z, t, "sum", 2.0).data)


# ------------------------------------------------------------------ Module methods
def test_module_to_double_keeps_the_parameters_and_the_optimiser_working():
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), nn.Linear(3, 1))
    params = list(model.parameters())
    opt = optim.SGD(model.parameters(), lr=0.1)
    assert model.double() is model
    assert all(p.dtype == np.float64 for p in model.parameters())
    assert model[1].running_var.dtype == np.float64
    assert [id(p) for p in model.parameters()] == [id(p) for p in params]
    x = Tensor(np.arange(8.0).reshape(4, 2) % 3)
    before = params[0].data.copy()
    (model(x) ** 2).sum().backward()
    opt.step()
    assert params[0].dtype == np.float64 and not np.array_equal(params[0].data, before)
    assert model.float()[0].weight.dtype == np.float32
    assert model.to(tg.float64)[0].weight.dtype == np.float64
    assert model.to("cpu") is model and model.cpu() is model
    with pytest.raises(RuntimeError, match="CPU only"):
        model.to("cuda")
    with pytest.raises(TypeError, match="only floating dtypes"):
        model.to(tg.int64)


def test_requires_grad_and_zero_grad_set_to_none():
    model = nn.Linear(2, 2)
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())
    assert len(list(model.parameters())) == 2  # frozen parameters stay parameters
    model.requires_grad_()
    model(Tensor(np.ones((1, 2)))).sum().backward()
    grad = model.weight.grad
    model.zero_grad(set_to_none=False)
    assert model.weight.grad is grad and not grad.any()  # zeroed in place
    model.zero_grad()
    assert model.weight.grad is None
    opt = optim.SGD(model.parameters(), lr=0.1)
    model(Tensor(np.ones((1, 2)))).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert model.bias.grad is not None and not model.bias.grad.any()
    opt.zero_grad()
    assert model.bias.grad is None
    assert [name for name, _ in nn.Sequential(model, nn.ReLU()).named_children()] == ["0", "1"]
    assert len(list(nn.Sequential(model, nn.ReLU()).modules())) == 3


def test_init_normal_refuses_a_positional_mean_or_std():
    w = Tensor(np.zeros((2, 2)))
    with pytest.raises(TypeError):
        nn.init.normal_(w, 0.0, 0.02)  # PyTorch's (mean, std) order; ours was (std, mean)
    nn.init.normal_(w, mean=3.0, std=0.0)
    assert (w.data == 3).all()


def test_pytorchs_init_names():
    w = Tensor(np.zeros((400, 300)))
    tg.manual_seed(0)
    nn.init.kaiming_normal_(w)  # defaults: leaky_relu with a = 0, fan_in → √(2/300)
    assert w.data.std() == pytest.approx(np.sqrt(2 / 300), rel=0.02)
    nn.init.kaiming_uniform_(w, a=np.sqrt(5))  # nn.Linear's default: bound 1/√300
    assert np.abs(w.data).max() <= 1 / np.sqrt(300) and np.abs(w.data).max() > 0.95 / np.sqrt(300)
    nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")
    assert w.data.std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)
    assert nn.init.calculate_gain("leaky_relu", 0.2) == pytest.approx(np.sqrt(2 / 1.04))
    assert (nn.init.ones_(w).data == 1).all() and (nn.init.constant_(w, 0.5).data == 0.5).all()
    with pytest.raises(ValueError, match="unknown nonlinearity 'gelu'"):
        nn.init.calculate_gain("gelu")


# ------------------------------------------------------------------ optimisers
def test_adagrad_follows_pytorchs_rule():
    w = Tensor([1.0], dtype=np.float64, requires_grad=True)
    opt = optim.Adagrad([w], lr=0.1, lr_decay=0.5, initial_accumulator_value=0.1)
    expected = [0.9012270403399191, 0.8569005309125165, 0.8301822749391945]  # by hand
    for want in expected:
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()
        assert w.item() == pytest.approx(want, rel=1e-12)
    assert opt.state[w]["step"] == 3
    with pytest.raises(ValueError, match="Adagrad: eps must be >= 0"):
        optim.Adagrad([w], eps=-1.0)


def test_param_group_lr_is_editable():
    w = Tensor([1.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    w.grad = np.array([1.0], dtype=np.float32)
    opt.param_groups[0]["lr"] = 0.5
    opt.step()
    assert w.item() == pytest.approx(0.5)


def _lrs(sched, opt, n, metric=None):
    out = []
    for i in range(n):
        sched.step() if metric is None else sched.step(metric[i])
        out.append(opt.param_groups[0]["lr"])
    return out


def _sgd(lr=0.1, **kw):
    return optim.SGD([Tensor([1.0], requires_grad=True)], lr=lr, **kw)


def test_multistep_and_cosine_annealing():
    opt = _sgd(1.0)
    got = _lrs(lr_scheduler.MultiStepLR(opt, milestones=[2, 5, 5], gamma=0.5), opt, 6)
    assert got == pytest.approx([1, .5, .5, .5, .125, .125])  # 5 twice: γ² there
    opt = _sgd(0.1)
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=4, eta_min=0.01)
    assert opt.param_groups[0]["lr"] == 0.1
    assert _lrs(sched, opt, 8) == pytest.approx(
        [0.086819805153, 0.055, 0.023180194847, 0.01, 0.023180194847, 0.055, 0.086819805153,
         0.1])
    opt = _sgd(2.0)
    assert _lrs(lr_scheduler.LambdaLR(opt, lambda t: 1 / (t + 1)), opt, 2) == \
        pytest.approx([1.0, 2 / 3])


def test_one_cycle_lr_and_momentum():
    opt = _sgd(0.1, momentum=0.9)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10)
    lrs = [opt.param_groups[0]["lr"]] + _lrs(sched, opt, 9)
    assert lrs == pytest.approx([0.04, 0.52, 1.0, 0.950484632, 0.8117456539, 0.6112620219,
                                 0.3887419781, 0.1882583461, 0.049519368, 4e-06], rel=1e-8)
    assert opt.param_groups[0]["momentum"] == pytest.approx(0.95)  # back to max at the end
    sched.step()  # step 10 = total_steps is allowed, as PyTorch
    with pytest.raises(ValueError, match="OneCycleLR: stepped 11 times but total_steps is 10"):
        sched.step()
    adam = optim.Adam([Tensor([1.0], requires_grad=True)], lr=0.1)
    one = lr_scheduler.OneCycleLR(adam, max_lr=0.5, epochs=2, steps_per_epoch=5)
    one.step()
    assert adam.param_groups[0]["betas"] == pytest.approx((0.9, 0.999))  # β₁ cycles
    assert adam.param_groups[0]["lr"] == pytest.approx(0.5 * 0.52)
    three = lr_scheduler.OneCycleLR(_sgd(momentum=0.9), max_lr=1.0, total_steps=10,
                                    three_phase=True, anneal_strategy="linear")
    got = [three.optimizer.param_groups[0]["lr"]] + _lrs(three, three.optimizer, 9)
    assert got[:5] == pytest.approx([0.04, 0.52, 1.0, 0.52, 0.04])
    assert got[-1] == pytest.approx(4e-6)
    with pytest.raises(ValueError, match="cycle_momentum=True needs an optimiser"):
        lr_scheduler.OneCycleLR(optim.Momentum([Tensor([1.0], requires_grad=True)], lr=0.1),
                                max_lr=1.0, total_steps=5)


def test_reduce_lr_on_plateau():
    opt = _sgd(1.0)
    sched = lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1, threshold=0.1,
                                           cooldown=1)
    metrics = [10, 9.5, 9.4, 9.3, 5, 5, 5, 5, 5]
    assert _lrs(sched, opt, 9, metrics) == [1, 1, .5, .5, .5, .5, .25, .25, .25]
    opt = _sgd(1.0)
    floor = lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1, threshold=0.1,
                                           cooldown=1, min_lr=0.3)
    assert _lrs(floor, opt, 9, metrics)[-1] == 0.3
    opt = _sgd(1.0)
    up = lr_scheduler.ReduceLROnPlateau(opt, mode="max", patience=0, threshold=1.0,
                                        threshold_mode="abs")
    assert _lrs(up, opt, 3, [1.0, 2.5, 3.0]) == pytest.approx([1.0, 1.0, 0.1])
    state = up.state_dict()
    assert state["best"] == 2.5 and "optimizer" not in state
