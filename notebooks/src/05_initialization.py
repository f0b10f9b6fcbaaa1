# %% [markdown]
# # 5. Initialisation: zeros, large random, He
#
# *Course 1, week 3 ("random initialisation") and course 2, week 1 ("vanishing and
# exploding gradients", "weight initialisation for deep networks").*
#
# Gradient descent starts from the initial weights, and a bad start can doom it. We
# train the same 3-layer ReLU network from three starting points and look at why the
# first two fail: zeros make every unit identical (the **symmetry** problem, visible in
# the gradients), large random weights saturate the output and blow up the cost.
# He initialisation, scaled to the number of inputs of each layer, just works.

# %%
import matplotlib.pyplot as plt
import numpy as np

import tinygrad_ng as tg
import tinygrad_ng.functional as F
import tinygrad_ng.nn as nn
from tinygrad_ng import optim
from tinygrad_ng.data import make_circles, train_dev_test_split
from tinygrad_ng.viz import GradientFlow, plot_decision_boundary, plot_gradient_flow

# %% [markdown]
# ## Data and model
#
# Two concentric circles (300 training and 100 test points) and the course's network
# LINEAR → RELU → LINEAR → RELU → LINEAR → SIGMOID with layer sizes $[2, 10, 5, 1]$.
# The sigmoid lives inside the loss (`binary_cross_entropy_with_logits`).

# %%
X, y = make_circles(400, noise=0.05, factor=0.5, seed=1)
(X_tr, y_tr), _, (X_te, y_te) = train_dev_test_split(X, y, fractions=(0.75, 0, 0.25), seed=0)
Xt, Yt = tg.Tensor(X_tr), tg.Tensor(y_tr.reshape(-1, 1).astype(np.float32))


def network(init):
    """[2, 10, 5, 1] with every weight drawn by `init` (biases start at 0)."""
    return nn.Sequential(nn.Linear(2, 10, init=init), nn.ReLU(),
                         nn.Linear(10, 5, init=init), nn.ReLU(),
                         nn.Linear(5, 1, init=init))


def fit(model, iterations=1000, lr=0.1):
    opt = optim.SGD(model.parameters(), lr=lr)
    costs = []
    for _ in range(iterations):
        opt.zero_grad()
        cost = F.binary_cross_entropy_with_logits(model(Xt), Yt)
        cost.backward()
        opt.step()
        costs.append(cost.item())
    return costs


def accuracy(model, X, y):
    with tg.no_grad():
        return float(((model(tg.Tensor(X)).data[:, 0] > 0) == y).mean())


# %% [markdown]
# ## 1. Zeros, and the symmetry problem
#
# If all of $W^{[1]}$ is zero, every hidden unit computes the same function of the
# input; then every unit receives the same gradient, takes the same step, and stays
# identical to its neighbours forever: a layer of $n$ units behaves like one unit.
# With ReLU it is worse still: $Z^{[1]} = 0$ gives $A^{[1]} = 0$, which zeroes every
# weight gradient $dW^{[l]} = \frac{1}{m} dZ^{[l]T} A^{[l-1]}$ above the first layer,
# and $dZ^{[1]}$ is zero too because $\text{ReLU}'(0) = 0$. Only the output bias
# $b^{[3]}$ gets a gradient.

# %%
tg.manual_seed(0)
zeros = network("zeros")
F.binary_cross_entropy_with_logits(zeros(Xt), Yt).backward()
for name, p in zeros.named_parameters():
    print(f"{name:9} |grad| max = {np.abs(p.grad).max():.4f}")
zero_weight_grads = all(not p.grad.any() for name, p in zeros.named_parameters()
                        if name.endswith("weight"))

# %% [markdown]
# Any **constant** initialisation has the symmetry problem, ReLU or not. Start every
# weight at 0.5: the rows of $dW^{[1]}$ (one row per hidden unit) come out identical,
# and after a whole training run the rows of $W^{[1]}$ are still identical.

# %%
def constant(weight):
    return nn.init.uniform_(weight, 0.5, 0.5)


tg.manual_seed(0)
same = network(constant)
F.binary_cross_entropy_with_logits(same(Xt), Yt).backward()
dW1 = same[0].weight.grad
print("dW[1] rows (first 4 of 10 units):\n", dW1[:4])
fit(same, iterations=200)
W1 = same[0].weight.data
row_spread = float(np.abs(W1 - W1[0]).max())
print(f"after training, the largest difference between two rows of W[1]: {row_spread}")

# %% [markdown]
# Now train from zeros: the cost cannot go below $\log 2 \approx 0.693$, the cost of
# answering 0.5 for everyone.

# %%
tg.manual_seed(0)
costs_zeros = fit(zeros)
acc_zeros = accuracy(zeros, X_te, y_te)
print(f"zeros: cost {costs_zeros[0]:.4f} -> {costs_zeros[-1]:.4f}, test accuracy "
      f"{acc_zeros:.0%}")

# %% [markdown]
# ## 2. Large random weights
#
# Random weights break the symmetry, but their scale matters. With $W \sim
# \mathcal{N}(0, 10^2)$ (the course's `randn · 10`) the output $z$ is huge, the sigmoid
# answers 0 or 1 with total confidence, and every wrong answer costs a fortune: the
# initial cost is enormous. Gradient descent spends its time undoing the bad start and
# ends up far from a good solution.

# %%
def large(weight):
    return nn.init.normal_(weight, std=10.0)


tg.manual_seed(0)
big = network(large)
costs_large = fit(big)
acc_large = accuracy(big, X_te, y_te)
print(f"large: cost {costs_large[0]:.1f} -> {costs_large[-1]:.4f}, test accuracy "
      f"{acc_large:.0%}")

# %% [markdown]
# ## 3. He initialisation
#
# $z = \sum_{j=1}^{n} w_j x_j$ sums $n = n^{[l-1]}$ terms, so to keep $z$ on the same
# scale as the inputs each $w_j$ should shrink as $n$ grows: $\text{Var}(w) = 1/n$.
# ReLU zeroes half of its inputs, which He et al. compensate with a factor 2:
#
# $$W^{[l]} \sim \mathcal{N}\!\left(0, \frac{2}{n^{[l-1]}}\right),$$
#
# in NumPy `np.random.randn(n[l], n[l-1]) * np.sqrt(2 / n[l-1])`, here `init="he_normal"`.
#
# For tanh the course uses $\sqrt{1/n^{[l-1]}}$ ("Xavier", here `lecun_normal_`) and
# mentions $\sqrt{2/(n^{[l-1]} + n^{[l]})}$ (`xavier_normal_`).

# %%
tg.manual_seed(0)
he = network("he_normal")
costs_he = fit(he)
acc_he = accuracy(he, X_te, y_te)
print(f"He: cost {costs_he[0]:.4f} -> {costs_he[-1]:.4f}, test accuracy {acc_he:.0%}")

# %% [markdown]
# ## Side by side

# %%
runs = {"zeros": (zeros, costs_zeros, acc_zeros),
        "large random (×10)": (big, costs_large, acc_large),
        "He": (he, costs_he, acc_he)}
fig, axes = plt.subplots(1, 4, figsize=(20, 4.5))
for (name, (model, costs, acc)), ax in zip(runs.items(), axes[1:]):
    axes[0].semilogy(costs, label=name)
    plot_decision_boundary(model, X_te, y_te, output="logits", resolution=120, ax=ax,
                           title=f"{name}: test accuracy {acc:.0%}")
axes[0].set(xlabel="iteration", ylabel="cost (log scale)", title="training cost")
axes[0].legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Why the scale matters more as networks get deeper
#
# Push a batch through 20 ReLU layers of 100 units and watch the spread of the
# activations. Too small a scale and they vanish, too large and they explode (and so do
# the gradients flowing back through the same weights); He keeps them steady.

# %%
tg.manual_seed(0)
x = tg.randn(500, 100)
spread = {}
plt.figure(figsize=(6, 4))
for name, init in {"std 0.01": lambda w: nn.init.normal_(w, std=0.01),
                   "std 1": lambda w: nn.init.normal_(w, std=1.0),
                   "He": nn.init.he_normal_}.items():
    deep = nn.Sequential(*[m for _ in range(20) for m in (nn.Linear(100, 100, init=init),
                                                          nn.ReLU())])
    a, stds = x, []
    with tg.no_grad():
        for layer in deep:
            a = layer(a)
            if isinstance(layer, nn.ReLU):
                stds.append(float(a.data.std(dtype=np.float64)))
    spread[name] = stds
    plt.semilogy(range(1, 21), stds, marker="o", label=name)
plt.xlabel("layer")
plt.ylabel("std of the activations")
plt.legend()
plt.title("activations through 20 ReLU layers")
plt.show()
print({k: f"layer 20: {v[-1]:.3g}" for k, v in spread.items()})

# %% [markdown]
# ## The gradients through 20 layers
#
# The same happens on the way back: the gradient that reaches the first layer is the
# product of 20 layers' local derivatives. `plot_gradient_flow(model)` draws, after one
# `backward()`, the gradient norm $\|dW^{[l]}\|$ of every layer of a 20-layer ReLU
# network (10 units wide) on our circles. With zeros nothing flows at all (a zero
# gradient is marked × at the bottom), with std 0.01 the gradient vanishes on its way to
# the first layer (below what float32 can even hold), with std 1 it explodes, and He
# keeps every layer's gradient on the same scale.

# %%
def deep_network(init, depth=20, width=10):
    layers = [nn.Linear(2, width, init=init), nn.ReLU()]
    for _ in range(depth - 2):
        layers += [nn.Linear(width, width, init=init), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(width, 1, init=init))


deep_inits = {"zeros": "zeros", "std 0.01": lambda w: nn.init.normal_(w, std=0.01),
              "std 1": lambda w: nn.init.normal_(w, std=1.0), "He": "he_normal"}
first_layer_grad = {}
fig, ax = plt.subplots(figsize=(10, 4))
for name, init in deep_inits.items():
    tg.manual_seed(0)
    deep = deep_network(init)
    F.binary_cross_entropy_with_logits(deep(Xt), Yt).backward()
    first_layer_grad[name] = float(np.linalg.norm(deep[0].weight.grad))
    plot_gradient_flow(deep, label=name, ax=ax)
plt.show()
print({k: f"{v:.3g}" for k, v in first_layer_grad.items()})

# %% [markdown]
# Over training, a `GradientFlow` recorder follows each layer's gradient norm and the
# size of its update relative to its weights, $\|\Delta W\| / \|W\|$ (about $10^{-3}$
# is the usual healthy size). Here 100 steps of gradient descent on the He network:

# %%
tg.manual_seed(0)
deep_he = deep_network("he_normal")
opt = optim.SGD(deep_he.parameters(), lr=0.05)
flow = GradientFlow(deep_he)
for _ in range(100):
    opt.zero_grad()
    F.binary_cross_entropy_with_logits(deep_he(Xt), Yt).backward()
    opt.step()
    flow.record()
plot_gradient_flow(flow)
plt.show()
ratios = np.array([flow.update_ratios[name][-1] for name, _ in flow.layers])
print(f"update ratios after 100 steps: from {ratios.min():.1e} to {ratios.max():.1e}")

# %% [markdown]
# ## Summary
#
# * Zeros (or any constant) keep all units of a layer identical: the gradients show it.
# * Large random weights saturate the output and start from an enormous cost.
# * He initialisation, $\mathcal{N}(0, 2/n^{[l-1]})$, keeps the signal's scale and
#   trains quickly to near-perfect accuracy.
# * Through 20 layers the gradients vanish (small weights) or explode (large ones);
#   `plot_gradient_flow` shows it layer by layer, and He keeps them level.

# %%
assert zero_weight_grads and acc_zeros <= 0.6 and costs_zeros[-1] > 0.69
assert np.allclose(dW1, dW1[0]) and row_spread == 0.0
assert costs_large[0] > 10 * costs_he[0] and acc_large < acc_he
assert acc_he >= 0.9 and costs_he[-1] < 0.1
assert spread["std 0.01"][-1] < 1e-10 < 1e10 < spread["std 1"][-1]
assert 0.1 < spread["He"][-1] < 10
assert first_layer_grad["zeros"] == 0 and first_layer_grad["std 0.01"] < 1e-20
assert first_layer_grad["std 1"] > 1e5 and 1e-3 < first_layer_grad["He"] < 10
assert len(flow) == 100 and np.all((1e-5 < ratios) & (ratios < 1e-1))
print(f"lesson checks passed: zeros {acc_zeros:.0%}, large {acc_large:.0%}, He {acc_he:.0%}")
