"""tinygrad_ng.viz.dynamics: gradient flow and optimiser state, recorded over training and
drawn with matplotlib (Agg)."""

from __future__ import annotations

import numpy as np
import pytest
import tinygrad_ng.nn as nn
from tinygrad_ng.viz import (
    GradientFlow,
    OptimizerTrace,
    optimizer_state,
    plot_gradient_flow,
    plot_optimizer_state,
)

import tinygrad_ng as tg
import tinygrad_ng.functional as F
from tinygrad_ng import optim

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def data():
    tg.manual_seed(0)
    X = tg.randn(32, 4)
    y = tg.Tensor((np.arange(32) % 2).reshape(-1, 1).astype(np.float32))
    return X, y


def net(init="he_normal", depth=3):
    layers = []
    for i in range(depth):
        layers += [nn.Linear(4 if i == 0 else 6, 6, init=init), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(6, 1, init=init))


def train(model, opt, steps, *recorders, scheduler=None):
    X, y = data()
    for _ in range(steps):
        opt.zero_grad()
        F.binary_cross_entropy_with_logits(model(X), y).backward()
        opt.step()
        for r in recorders:
            r.record()
        if scheduler:
            scheduler.step()


def test_gradient_flow_records_norms_and_update_ratios():
    tg.manual_seed(0)
    model = net()
    opt = optim.SGD(model.parameters(), lr=0.1)
    flow = GradientFlow(model)
    first = model[0].weight.data.copy()
    train(model, opt, 1, flow)
    assert [n for n, _ in flow.layers] == ["0.weight", "2.weight", "4.weight", "6.weight"]
    assert len(flow) == 1
    # one SGD step: ΔW = lr·dW, so ‖ΔW‖/‖W‖ = lr‖dW‖/‖W_before‖
    norm = np.linalg.norm(model[0].weight.grad.astype(np.float64))
    assert np.isclose(flow.grad_norms["0.weight"][0], norm)
    assert np.isclose(flow.update_ratios["0.weight"][0],
                      0.1 * norm / np.linalg.norm(first.astype(np.float64)), rtol=1e-5)
    train(model, opt, 2, flow)
    assert len(flow) == 3 and len(flow.update_ratios["6.weight"]) == 3
    assert len(GradientFlow(model, which="all").layers) == 8
    fig = plot_gradient_flow(flow)
    assert [ax.get_title() for ax in fig.axes][:2] == [
        "gradient norm per layer", "update / weight ratio (dashed: 1e-3)"]
    assert len(fig.axes[0].get_lines()) == 4


def test_zeros_init_has_zero_gradient_in_the_first_layer_and_the_plot_says_so():
    tg.manual_seed(0)
    zeros, he = net("zeros"), net("he_normal")
    X, y = data()
    for m in (zeros, he):
        F.binary_cross_entropy_with_logits(m(X), y).backward()
    ax = plot_gradient_flow(zeros, label="zeros")
    plot_gradient_flow(he, label="He", ax=ax)
    zero_line, he_line = [line for line in ax.get_lines() if line.get_label() in ("zeros", "He")]
    assert np.isnan(zero_line.get_ydata()).all()            # every weight gradient is 0
    assert np.isfinite(he_line.get_ydata()).all() and (he_line.get_ydata() > 0).all()
    assert ax.get_title() == "zeros: zero gradient (×) in 4 layers, 0.weight … 6.weight"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "2", "4", "6"]


def test_gradient_flow_rejects_what_it_cannot_show():
    with pytest.raises(TypeError, match="named_parameters"):
        GradientFlow([tg.zeros(2, requires_grad=True)])
    with pytest.raises(ValueError, match="which must be"):
        GradientFlow(net(), which="biases")
    with pytest.raises(ValueError, match="no parameters"):
        GradientFlow(nn.ReLU())
    with pytest.raises(ValueError, match="recorder is empty"):
        plot_gradient_flow(GradientFlow(net()))


def test_adam_state_with_bias_correction_matches_its_definition():
    tg.manual_seed(0)
    model = net()
    opt = optim.Adam(model.parameters(), lr=0.01, betas=(0.8, 0.9))
    train(model, opt, 3)
    W = model[0].weight
    state = optimizer_state(opt, W)
    raw = opt.state[W]
    assert np.allclose(state["v̂ (bias-corrected)"], raw["exp_avg"] / (1 - 0.8**3))
    assert np.allclose(state["ŝ (bias-corrected)"], raw["exp_avg_sq"] / (1 - 0.9**3))
    assert np.array_equal(state["v (Adam, 1st moment)"], raw["exp_avg"])


def test_optimizer_trace_over_steps_with_a_schedule():
    tg.manual_seed(0)
    model = net()
    opt = optim.Momentum(model.parameters(), lr=0.5, beta=0.9)
    sched = optim.lr_scheduler.InverseTimeDecay(opt, decay_rate=1.0)
    trace = OptimizerTrace(opt, params=["0.weight", "6.bias"], names=model, elements=3)
    train(model, opt, 4, trace, scheduler=sched)
    assert trace.lrs == [[0.5], [0.25], [0.5 / 3], [0.125]]
    v = np.array(trace.values[("0.weight", "v (momentum)")])
    assert v.shape == (4, 3)
    assert np.array_equal(v[-1], opt.state[model[0].weight]["velocity"].reshape(-1)[:3])
    fig = plot_optimizer_state(trace)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[:3] == ["0.weight: v (momentum)", "6.bias: v (momentum)", "learning rate α"]
    lr_line = fig.axes[2].get_lines()[0]
    assert np.allclose(lr_line.get_ydata(), [0.5, 0.25, 0.5 / 3, 0.125])


def test_plot_optimizer_state_of_an_optimizer_now():
    tg.manual_seed(0)
    model = net()
    opt = optim.RMSprop(model.parameters(), lr=0.01)
    with pytest.raises(ValueError, match="keeps no state arrays yet"):
        plot_optimizer_state(opt)
    train(model, opt, 2)
    fig = plot_optimizer_state(opt, elements=5)
    assert fig.axes[0].get_title() == "param 0: s (RMSprop)"
    heights = [p.get_height() for p in fig.axes[0].patches]
    s = opt.state[next(iter(model.parameters()))]["square_avg"].reshape(-1)[:5]
    assert np.allclose(heights, s)
    with pytest.raises(KeyError, match="no parameter named 'nope'"):
        OptimizerTrace(opt, params=["nope"], names=model)
    with pytest.raises(TypeError, match="expected an optimizer"):
        OptimizerTrace(model)
