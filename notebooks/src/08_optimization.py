# %% [markdown]
# # 8. Optimisation: mini-batches, momentum, RMSprop, Adam, learning-rate decay
#
# *Course 2, week 2: optimisation algorithms.*
#
# Plain gradient descent takes one careful step per pass over the data. The course's
# week 2 makes training faster in two ways: take a step after every **mini-batch**
# instead of after the whole set, and make each step smarter by averaging past
# gradients (momentum, RMSprop, Adam) and shrinking the learning rate over time. We
# train one small network on the moons data with each method and compare the cost
# curves.
#
# The notebook draws its randomness as the course's code does
# (`tg.manual_seed(seed, legacy=True)`: NumPy's global generator in the course's order),
# so its data, initial weights and mini-batches are the course's own, and its first
# epoch's costs are the ones the course prints.

# %%
import matplotlib.pyplot as plt
import numpy as np

import tinygrad_ng as tg
import tinygrad_ng.functional as F
import tinygrad_ng.nn as nn
from tinygrad_ng import optim
from tinygrad_ng.data import DataLoader, make_moons
from tinygrad_ng.utils import ewa
from tinygrad_ng.viz import OptimizerTrace, plot_decision_boundary, plot_optimizer_state

# %% [markdown]
# ## Data, model, mini-batches
#
# 300 noisy moon points and the course's 3-layer network $[2, 5, 2, 1]$ (ReLU, He
# initialisation). Mini-batch gradient descent shuffles the examples at the start of
# every **epoch** (one pass through the data), cuts them into batches $X^{\{t\}},
# Y^{\{t\}}$ of 64, and takes one step per batch. The last batch holds the
# $300 - 4 \cdot 64 = 44$ leftovers. Batch size $m$ is batch gradient descent; batch
# size 1 is stochastic gradient descent; powers of two in between are typical.
#
# In legacy mode `make_moons(300, noise=0.2, seed=3)` is the course's `load_dataset()`
# (`np.random.seed(3)`, then scikit-learn's `make_moons`), and `DataLoader(..., seed=11)`
# shuffles each epoch as the course's training loop does (it adds 1 to its seed 10 before
# every epoch's `random_mini_batches`).

# %%
tg.manual_seed(3, legacy=True)  # draw as the course does, from here on
X, y = make_moons(300, noise=0.2, seed=3)
Y = y.reshape(-1, 1).astype(np.float32)
Xt, Yt = tg.Tensor(X), tg.Tensor(Y)

loader = DataLoader(X, Y, batch_size=64, seed=11)
batch_sizes = [len(xb) for xb, yb in loader]
print(loader)
print("batch sizes in one epoch:", batch_sizes)


def network():
    return nn.Sequential(nn.Linear(2, 5, init="he_normal"), nn.ReLU(),
                         nn.Linear(5, 2, init="he_normal"), nn.ReLU(),
                         nn.Linear(2, 1, init="he_normal"))


def train(make_optimizer, epochs=200, batch_size=64, scheduler=None):
    """Mini-batch training; returns the model, every mini-batch cost, the cost per epoch
    on the whole training set, and the learning rate of each epoch."""
    tg.manual_seed(3, legacy=True)  # the course's He initialisation (it seeds 3)
    model = network()
    opt = make_optimizer(model.parameters())
    sched = scheduler(opt) if scheduler else None
    loader = DataLoader(X, Y, batch_size=batch_size, seed=11)
    batch_costs, epoch_costs, lrs = [], [], []
    for _ in range(epochs):
        lrs.append(opt.param_groups[0]["lr"])
        for xb, yb in loader:
            opt.zero_grad()
            cost = F.binary_cross_entropy_with_logits(model(xb), yb)
            cost.backward()
            opt.step()
            batch_costs.append(cost.item())
        with tg.no_grad():
            epoch_costs.append(F.binary_cross_entropy_with_logits(model(Xt), Yt).item())
        if sched:
            sched.step()
    return model, np.array(batch_costs), np.array(epoch_costs), lrs


def accuracy(model):
    with tg.no_grad():
        return float(((model(Xt).data[:, 0] > 0) == y).mean())


# %% [markdown]
# ## Exponentially weighted averages
#
# Each mini-batch sees different examples, so the mini-batch cost $J^{\{t\}}$ is noisy.
# The tool behind all of this week's optimisers is the exponentially weighted average
#
# $$v_0 = 0, \qquad v_t = \beta v_{t-1} + (1 - \beta)\,\theta_t,$$
#
# which averages over roughly the last $\frac{1}{1-\beta}$ values ($\beta = 0.9$: about
# 10). Starting from $v_0 = 0$ makes the first averages too small; dividing by
# $1 - \beta^t$ (**bias correction**) fixes that. `tinygrad_ng.utils.ewa` computes it;
# here on the mini-batch costs of plain gradient descent:

# %%
_, noisy, _, _ = train(lambda p: optim.SGD(p, lr=0.3), epochs=15, batch_size=16)
plt.figure(figsize=(8, 4))
plt.plot(noisy, color="lightgray", label="mini-batch cost $J^{\\{t\\}}$ (batches of 16)")
plt.plot(ewa(noisy, beta=0.9, bias_correction=False), label="EWA, β = 0.9, no correction")
plt.plot(ewa(noisy, beta=0.9), label="EWA, β = 0.9")
plt.plot(ewa(noisy, beta=0.98), label="EWA, β = 0.98: smoother, but lags")
plt.xlabel("iteration (mini-batch)")
plt.ylabel("cost")
plt.legend()
plt.show()

# %% [markdown]
# ## The optimisers
#
# On iteration $t$, with $dW, db$ from the current mini-batch (shown for $W$; $b$ is
# treated the same way):
#
# **Momentum**: move along the average gradient. Oscillating components cancel out,
# consistent ones add up:
# $$v_{dW} = \beta v_{dW} + (1 - \beta)\, dW, \qquad W := W - \alpha\, v_{dW}.$$
#
# **RMSprop**: divide by a running root mean square of the gradient, so directions
# with large (oscillating) gradients take smaller steps:
# $$s_{dW} = \beta_2 s_{dW} + (1 - \beta_2)\, dW^2, \qquad
#   W := W - \alpha \frac{dW}{\sqrt{s_{dW}} + \varepsilon}.$$
#
# **Adam**: both, with bias correction:
# $$v_{dW} = \beta_1 v_{dW} + (1 - \beta_1)\, dW, \quad
#   s_{dW} = \beta_2 s_{dW} + (1 - \beta_2)\, dW^2, \quad
#   \hat{v} = \frac{v_{dW}}{1 - \beta_1^t}, \quad \hat{s} = \frac{s_{dW}}{1 - \beta_2^t},
#   \quad W := W - \alpha \frac{\hat{v}}{\sqrt{\hat{s}} + \varepsilon},$$
# with the usual $\beta_1 = 0.9$, $\beta_2 = 0.999$, $\varepsilon = 10^{-8}$.
#
# In `tinygrad_ng.optim`: `SGD(params, lr)`, `Momentum(params, lr, beta)`,
# `RMSprop(params, lr, alpha=β₂, eps)` and `Adam(params, lr, betas=(β₁, β₂), eps)`.
#
# First a check against the course: with its $\alpha = 0.0007$, one epoch from its initial
# weights over its mini-batches gives the "Cost after epoch 0" it prints (the mean loss
# over the epoch's mini-batches, each taken before its step):

# %%
printed = {"mini-batch GD": (lambda p: optim.SGD(p, lr=0.0007), 0.702405),
           "momentum": (lambda p: optim.Momentum(p, lr=0.0007, beta=0.9), 0.702413),
           "Adam": (lambda p: optim.Adam(p, lr=0.0007), 0.702166)}
first_epoch = {}
for name, (make, course) in printed.items():
    _, batch_costs, _, _ = train(make, epochs=1)
    first_epoch[name] = float(batch_costs @ np.array(batch_sizes)) / len(X)
    print(f"{name:14} Cost after epoch 0: {first_epoch[name]:.6f}   (the course: {course})")

# %% [markdown]
# Now each optimiser is trained for 200 epochs with the same $\alpha = 0.01$ and the
# same initial weights.

# %%
optimisers = {
    "mini-batch GD": lambda p: optim.SGD(p, lr=0.01),
    "momentum (β = 0.9)": lambda p: optim.Momentum(p, lr=0.01, beta=0.9),
    "RMSprop (β₂ = 0.999)": lambda p: optim.RMSprop(p, lr=0.01, alpha=0.999),
    "Adam": lambda p: optim.Adam(p, lr=0.01),
}
runs = {name: train(make) for name, make in optimisers.items()}
acc = {name: accuracy(run[0]) for name, run in runs.items()}
for name, (_, _, epoch_costs, _) in runs.items():
    print(f"{name:22} final cost {epoch_costs[-1]:.4f}   accuracy {acc[name]:.1%}")

# %%
fig, axes = plt.subplots(2, 4, figsize=(20, 8), sharey="row")
for (name, (model, batch_costs, epoch_costs, _)), top, bottom in zip(runs.items(), *axes):
    iterations_per_epoch = len(batch_costs) // len(epoch_costs)
    top.plot(batch_costs, color="lightgray", linewidth=0.8, label="mini-batch")
    top.plot(ewa(batch_costs, beta=0.95), label="EWA of the mini-batch cost")
    top.plot(np.arange(1, len(epoch_costs) + 1) * iterations_per_epoch, epoch_costs,
             label="whole training set, per epoch")
    top.set(title=name, xlabel="iteration", ylim=(0, 1))
    top.grid(alpha=0.3)
    plot_decision_boundary(model, X, y, output="logits", resolution=100, ax=bottom,
                           title=f"{name}: {acc[name]:.0%}")
axes[0, 0].set_ylabel("cost")
axes[0, 0].legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# With this small $\alpha$, plain mini-batch gradient descent is still crawling after
# 200 epochs, and momentum barely helps (it smooths the direction but does not make the
# steps longer). RMSprop and Adam rescale each parameter's step by the size of its
# gradients and are done long before.
#
# ## Learning-rate decay
#
# Near a minimum, mini-batch noise keeps a constant-size step bouncing around instead of
# settling. Shrinking $\alpha$ over time fixes that; the course's schedule, updated once
# per epoch, is
#
# $$\alpha = \frac{\alpha_0}{1 + \text{decay\_rate} \cdot \text{epoch\_num}},$$
#
# which with $\alpha_0 = 0.2$ and decay rate $1$ gives the course's table. In
# `tinygrad_ng` a scheduler wraps the optimiser and `sched.step()` is called once per
# epoch:

# %%
opt = optim.SGD([tg.zeros(1, requires_grad=True)], lr=0.2)
sched = optim.lr_scheduler.InverseTimeDecay(opt, decay_rate=1.0)
table = []
for epoch in range(1, 5):
    sched.step()
    table.append(round(sched.get_last_lr()[0], 3))
    print(f"epoch {epoch}: α = {sched.get_last_lr()[0]:.3f}")

# %% [markdown]
# Now a noisy run: batches of 16 and a large $\alpha_0 = 1$, once constant and once with
# decay rate 0.05 (so $\alpha$ halves after 20 epochs and reaches $\alpha_0/6$ by epoch
# 100).

# %%
constant = train(lambda p: optim.SGD(p, lr=1.0), epochs=100, batch_size=16)
decayed = train(lambda p: optim.SGD(p, lr=1.0), epochs=100, batch_size=16,
                scheduler=lambda opt: optim.lr_scheduler.InverseTimeDecay(opt, 0.05))
wobble = {name: float(run[2][-20:].std()) for name, run in
          {"constant α": constant, "decayed α": decayed}.items()}

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4))
for name, run in {"constant α": constant, "decayed α": decayed}.items():
    ax1.plot(run[2], label=f"{name} (std over the last 20 epochs: {wobble[name]:.3f})")
    ax2.plot(run[3], label=name)
ax1.set(xlabel="epoch", ylabel="cost on the whole training set", ylim=(0, 0.5),
        title="the decayed run settles")
ax1.legend()
ax2.set(xlabel="epoch", ylabel="α", title="learning rate")
ax2.legend()
plt.show()

# %% [markdown]
# ## Inside Adam
#
# What does Adam actually keep? An `OptimizerTrace` records, after every step, the first
# few entries of each state array for a chosen parameter (here $W^{[1]}$): the averages
# $v_{dW}$ and $s_{dW}$, their bias-corrected $\hat{v}$ and $\hat{s}$, and the learning
# rate, here decayed once per epoch. On the first step $v = (1 - \beta_1)\,dW$ is only a
# tenth of the gradient; bias correction divides by $1 - \beta_1 = 0.1$ and gives back
# $\hat{v} = dW$ exactly (and $\hat{s} = dW^2$).

# %%
tg.manual_seed(3, legacy=True)
model = network()
opt = optim.Adam(model.parameters(), lr=0.01)
sched = optim.lr_scheduler.InverseTimeDecay(opt, decay_rate=0.5)
trace = OptimizerTrace(opt, params=["0.weight"], names=model, elements=3)
loader = DataLoader(X, Y, batch_size=64, seed=11)
for _ in range(10):
    for xb, yb in loader:
        opt.zero_grad()
        F.binary_cross_entropy_with_logits(model(xb), yb).backward()
        opt.step()
        trace.record()
    sched.step()
plot_optimizer_state(trace)
plt.show()
v, v_hat, s_hat = (np.array(trace.values[("0.weight", key)])
                   for key in ("v (Adam, 1st moment)", "v̂ (bias-corrected)",
                               "ŝ (bias-corrected)"))
print("step 1: v =", v[0], " v̂ =", v_hat[0], " ŝ =", s_hat[0])

# %% [markdown]
# ## Summary
#
# * Mini-batches give many cheap, noisy steps per epoch; EWA smoothing shows the trend.
# * Momentum averages the gradients; RMSprop divides by their running RMS; Adam does
#   both and was the fastest here.
# * Learning-rate decay lets a noisy optimiser settle into the minimum.

# %%
assert batch_sizes == [64, 64, 64, 64, 44]
assert table == [0.1, 0.067, 0.05, 0.04]
assert all(abs(first_epoch[name] - course) < 1e-5 for name, (_, course) in printed.items())
final = {name: run[2][-1] for name, run in runs.items()}
assert final["Adam"] < 0.5 * final["mini-batch GD"]
assert acc["Adam"] >= 0.9 and acc["RMSprop (β₂ = 0.999)"] >= 0.9
assert acc["Adam"] > acc["mini-batch GD"]
assert wobble["decayed α"] < wobble["constant α"] / 3
assert decayed[2][-20:].mean() < constant[2][-20:].mean()
assert np.allclose(v[0], 0.1 * v_hat[0]) and np.allclose(s_hat[0], v_hat[0] ** 2)
assert len(trace) == 50 and np.isclose(trace.lrs[-1][0], 0.01 / (1 + 0.5 * 9))
print(f"lesson checks passed: Adam {acc['Adam']:.0%} vs mini-batch GD {acc['mini-batch GD']:.0%}")
