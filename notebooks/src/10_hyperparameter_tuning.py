# %% [markdown]
# # 10. Hyperparameter tuning, early stopping, and a first "framework" program
#
# *Course 2, week 3: tuning process, using an appropriate scale, coarse to fine; week 1:
# early stopping; week 3: programming frameworks.*
#
# Parameters ($W$, $b$) are learned; **hyperparameters** (learning rate $\alpha$,
# momentum $\beta$, number of units, mini-batch size, …) are chosen by us, by trying.
# The course's advice on how to try: sample at random rather than on a grid, sample on
# the right scale, zoom in on the good region, and judge every trial on a dev set. We do
# each with `tinygrad_ng.tune`, add early stopping, and end with the course's first
# framework example.

# %%
import matplotlib.pyplot as plt
import numpy as np

import tinygrad_ng as tg
import tinygrad_ng.functional as F
import tinygrad_ng.nn as nn
from tinygrad_ng import optim, tune
from tinygrad_ng.data import make_moons, train_dev_test_split
from tinygrad_ng.utils import EarlyStopping

# %% [markdown]
# ## The experiment to tune
#
# Noisy moons split 50/50 into train and dev sets; a $[2, 16, 16, 1]$ ReLU network
# trained with Adam for 100 full-batch steps. A trial takes the hyperparameters and
# returns the **dev cost** (cross-entropy; lower is better). We tune Adam's learning rate
# $\alpha$ and its momentum term $\beta_1$.

# %%
X, y = make_moons(400, noise=0.25, seed=0)
(X_tr, y_tr), (X_dev, y_dev), _ = train_dev_test_split(X, y, fractions=(0.5, 0.5, 0), seed=0)
Xt, Yt = tg.Tensor(X_tr), tg.Tensor(y_tr.reshape(-1, 1).astype(np.float32))
Xd, Yd = tg.Tensor(X_dev), tg.Tensor(y_dev.reshape(-1, 1).astype(np.float32))


def dev_cost(model):
    with tg.no_grad():
        return F.binary_cross_entropy_with_logits(model(Xd), Yd).item()


def trial(lr, beta1, steps=100):
    tg.manual_seed(0)  # same initial weights in every trial: only the hyperparameters differ
    model = nn.Sequential(nn.Linear(2, 16, init="he_normal"), nn.ReLU(),
                          nn.Linear(16, 16, init="he_normal"), nn.ReLU(), nn.Linear(16, 1))
    opt = optim.Adam(model.parameters(), lr=lr, betas=(beta1, 0.999))
    for _ in range(steps):
        opt.zero_grad()
        F.binary_cross_entropy_with_logits(model(Xt), Yt).backward()
        opt.step()
    return dev_cost(model)


# %% [markdown]
# ## The right scale
#
# Where should $\alpha$ be searched? Somewhere in $[10^{-4}, 1]$. Sampling **uniformly**
# on that interval puts 90% of the trials in $[0.1, 1]$ and less than 0.1% in
# $[10^{-4}, 10^{-3}]$. Sample the **exponent** instead:
#
# $$r \sim \mathcal{U}[-4, 0], \qquad \alpha = 10^{r},$$
#
# so each decade gets a quarter of the trials (`tune.log_uniform(1e-4, 1)`). For
# $\beta \in [0.9, 0.999]$ the interesting quantity is $1 - \beta$ (the averaging window
# is about $\frac{1}{1 - \beta}$: 10 values at 0.9, 1000 at 0.999), and results are most
# sensitive near 1, so sample
#
# $$r \sim \mathcal{U}[-3, -1], \qquad \beta = 1 - 10^{r}$$
#
# (`tune.beta_range(0.9, 0.999)`): 0.9–0.99 and 0.99–0.999 get half of the trials each.

# %%
rng = np.random.default_rng(0)
n = 2000
alpha_uniform = tune.uniform(1e-4, 1)
alpha_log = tune.log_uniform(1e-4, 1)
beta_space = tune.beta_range(0.9, 0.999)
a_uni = np.array([alpha_uniform.sample(rng) for _ in range(n)])
a_log = np.array([alpha_log.sample(rng) for _ in range(n)])
betas = np.array([beta_space.sample(rng) for _ in range(n)])

decades = np.array([1e-4, 1e-3, 1e-2, 1e-1, 1])
share_uniform = np.histogram(a_uni, decades)[0] / n
share_log = np.histogram(a_log, decades)[0] / n
share_beta = np.histogram(betas, [0.9, 0.99, 0.999])[0] / n
print("share of α per decade 1e-4…1e-3…1e-2…1e-1…1:")
print("  uniform:    ", np.round(share_uniform, 3))
print("  log scale:  ", np.round(share_log, 3))
print("share of β in [0.9, 0.99] and [0.99, 0.999]:", np.round(share_beta, 3))

fig, axes = plt.subplots(1, 3, figsize=(16, 3.8))
bins = np.logspace(-4, 0, 41)
axes[0].hist(a_uni, bins=bins, alpha=0.6, label="uniform in [1e-4, 1]")
axes[0].hist(a_log, bins=bins, alpha=0.6, label="log_uniform(1e-4, 1)")
axes[0].set(xscale="log", xlabel="α (log axis)", ylabel="count", title="learning rate")
axes[0].legend()
axes[1].hist(betas, bins=40)
axes[1].set(xlabel="β", title="beta_range(0.9, 0.999): dense near 1")
axes[2].hist(1 - betas, bins=np.logspace(-3, -1, 41))
axes[2].set(xscale="log", xlabel="1 − β (log axis)", title="… flat on the log scale of 1 − β")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Grid or random?
#
# With a $4 \times 4$ grid we run 16 trials but try only **4** values of each
# hyperparameter. If one of them hardly matters (here $\beta_1$ matters much less than
# $\alpha$), 12 of the 16 trials are wasted repeats of the same 4 learning rates.
# Sixteen random points try 16 different values of each.

# %%
space = {"lr": tune.log_uniform(1e-4, 1), "beta1": tune.beta_range(0.9, 0.999)}
grid = tune.grid_search(trial, space, points=4, progress=False)
rand = tune.random_search(trial, space, trials=16, seed=1, progress=False)
distinct = {name: len({t.params["lr"] for t in res}) for name, res in
            (("grid", grid), ("random", rand))}
print(rand)
print(f"\ndistinct learning rates tried: grid {distinct['grid']}, random {distinct['random']}")
print(f"best dev cost: grid {grid.best.metric:.4f} (α = {grid.best_params['lr']:.3g}), "
      f"random {rand.best.metric:.4f} (α = {rand.best_params['lr']:.3g})")

# %%
fig, axes = plt.subplots(1, 2, figsize=(13, 4.2))
for res, marker, name in ((grid, "s", "grid"), (rand, "o", "random")):
    lrs = [t.params["lr"] for t in res]
    axes[0].scatter(lrs, [1 - t.params["beta1"] for t in res], marker=marker, label=name)
    axes[1].scatter(lrs, [t.metric for t in res], marker=marker, label=name)
axes[0].set(xscale="log", yscale="log", xlabel="α", ylabel="1 − β₁",
            title="where the trials were (both axes on their sampling scale)")
axes[1].set(xscale="log", xlabel="α", ylabel="dev cost", ylim=(0, 1),
            title="dev cost against α: random traces the curve")
for ax in axes:
    ax.legend()
    ax.grid(alpha=0.3)
plt.show()

# %% [markdown]
# ## Coarse to fine
#
# The best random trials cluster in one region. `tune.refine` builds a new, smaller
# space around the top few (on each hyperparameter's own scale), and a second search
# samples that region densely.

# %%
finer_space = tune.refine(rand, top_k=4, margin=0.1)
print("coarse:", space)
print("fine:  ", finer_space)
fine = tune.random_search(trial, finer_space, trials=12, seed=2, progress=False)
coarse_median = float(np.median([t.metric for t in rand]))
fine_median = float(np.median([t.metric for t in fine]))
best = min([rand.best, fine.best], key=lambda t: t.metric)
print(f"median dev cost of a trial: coarse {coarse_median:.3f}, fine {fine_median:.3f}")
print(f"best overall: {best.params} -> dev cost {best.metric:.4f}")

# %% [markdown]
# ## Early stopping
#
# Instead of choosing the number of training steps in advance, watch the dev cost while
# training: it falls, bottoms out, then rises as the network starts fitting the noise of
# the training set. Stop once it has not improved for `patience` epochs and keep the
# weights from the best epoch. (The course notes a drawback: one knob now affects both
# fitting and over-fitting, so the two are no longer tuned independently.)
#
# A bigger network, $[2, 100, 100, 1]$, over-fits these 200 points quickly. First the
# whole story, trained for 300 epochs without stopping:

# %%
def big_network():
    tg.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 100, init="he_normal"), nn.ReLU(),
                         nn.Linear(100, 100, init="he_normal"), nn.ReLU(), nn.Linear(100, 1))


def epoch(model, opt):
    opt.zero_grad()
    cost = F.binary_cross_entropy_with_logits(model(Xt), Yt)
    cost.backward()
    opt.step()
    return cost.item()


model = big_network()
opt = optim.Adam(model.parameters(), lr=0.01)
full_train, full_dev = [], []
for _ in range(300):
    full_train.append(epoch(model, opt))
    full_dev.append(dev_cost(model))

# %% [markdown]
# Now the same run with `EarlyStopping(patience=25)`: `stopper.step(dev_cost, model)`
# records the epoch's dev cost, snapshots the weights whenever it improves, and returns
# `True` (after putting the best weights back) once 25 epochs pass without improvement.

# %%
model = big_network()
opt = optim.Adam(model.parameters(), lr=0.01)
stopper = EarlyStopping(patience=25)
for _ in range(300):
    epoch(model, opt)
    if stopper.step(dev_cost(model), model):
        break
stop_epoch = stopper.epochs - 1  # epochs counts the step() calls, from 1
restored = dev_cost(model)
print(stopper)
print(f"stopped after epoch {stop_epoch}; best epoch {stopper.best_epoch}; dev cost of the "
      f"restored weights {restored:.4f} (after 300 epochs: {full_dev[-1]:.4f})")

plt.figure(figsize=(8, 4))
plt.plot(full_train, label="train cost")
plt.plot(full_dev, label="dev cost")
plt.axvline(stopper.best_epoch, color="green", linestyle="--", label="best epoch (kept)")
plt.axvline(stop_epoch, color="red", linestyle=":", label="early stopping stops here")
plt.xlabel("epoch")
plt.ylabel("cost")
plt.ylim(0, 0.8)
plt.legend()
plt.show()

# %% [markdown]
# ## The course's first framework example
#
# Minimise $J(w) = w^2 - 10w + 25 = (w - 5)^2$. The course writes it in TensorFlow:
# a variable $w$, the cost as an expression, a gradient tape, and Adam with
# $\alpha = 0.1$ for 1000 steps. The same program with `tinygrad_ng`: only the forward
# computation is written; `backward()` finds $\frac{dJ}{dw} = 2w - 10$ by itself.

# %%
w = tg.Tensor(0.0, requires_grad=True)
opt = optim.Adam([w], lr=0.1)
for _ in range(1000):
    opt.zero_grad()
    cost = w**2 - 10 * w + 25
    cost.backward()
    opt.step()
print(f"w = {w.item():.6f}")

# %% [markdown]
# The course's second version feeds the coefficients as data, $J = x_0 w^2 + x_1 w + x_2$
# with $x = (1, -10, 25)$: change $x$ and the same code minimises another quadratic.

# %%
x = tg.Tensor(np.array([1.0, -10.0, 25.0], dtype=np.float32))
w2 = tg.Tensor(0.0, requires_grad=True)
opt = optim.Adam([w2], lr=0.1)
for _ in range(1000):
    opt.zero_grad()
    cost = x[0] * w2**2 + x[1] * w2 + x[2]
    cost.backward()
    opt.step()
print(f"w = {w2.item():.6f}")

# %% [markdown]
# ## Summary
#
# * Sample hyperparameters at random, on the scale where they matter: `log_uniform` for
#   $\alpha$, `beta_range` for $\beta$.
# * Search coarse to fine: `refine` zooms into the region of the best trials.
# * Early stopping keeps the weights of the best dev epoch.
# * A framework needs only the forward computation; autograd and an optimiser do the rest.

# %%
assert all(abs(s - 0.25) < 0.04 for s in share_log), share_log
assert share_uniform[-1] > 0.85 and all(abs(s - 0.5) < 0.04 for s in share_beta)
assert distinct == {"grid": 4, "random": 16}
assert rand.best.metric < grid.best.metric
lo, hi = finer_space["lr"].low, finer_space["lr"].high
assert 1e-4 <= lo <= rand.best_params["lr"] <= hi <= 1 and hi / lo < 1e2
assert fine_median < coarse_median
assert stopper.stopped and stopper.best_epoch < stop_epoch < 299
assert np.isclose(restored, stopper.best) and restored < full_dev[-1]
assert abs(w.item() - 5) < 1e-3 and abs(w2.item() - 5) < 1e-3
print(f"lesson checks passed: random search {rand.best.metric:.3f} vs grid "
      f"{grid.best.metric:.3f}; w = {w.item():.6f}")
