# %% [markdown]
# # 6. Regularisation: L2 (weight decay) and inverted dropout
#
# *Course 2, week 1: bias and variance, L2 regularisation, dropout.*
#
# A network with far more parameters than training examples can memorise the training
# set, noise included: near-perfect training accuracy, clearly worse accuracy on new
# data. That gap is **variance** (over-fitting). We provoke it on purpose, then shrink it
# with the course's two tools: an L2 penalty on the weights and inverted dropout.

# %%
import matplotlib.pyplot as plt
import numpy as np

import tinygrad_ng as tg
import tinygrad_ng.functional as F
import tinygrad_ng.nn as nn
from tinygrad_ng import optim
from tinygrad_ng.data import make_moons, train_dev_test_split
from tinygrad_ng.utils import diagnose
from tinygrad_ng.viz import plot_decision_boundary

# %% [markdown]
# ## An over-fitting set-up
#
# Noisy moons: only 150 training examples, 350 dev examples to measure how well the
# model generalises. The network $[2, 100, 100, 1]$ (He initialisation) has over 10,000
# parameters: plenty to memorise 150 points.

# %%
X, y = make_moons(500, noise=0.3, seed=1)
(X_tr, y_tr), (X_dev, y_dev), _ = train_dev_test_split(X, y, fractions=(0.3, 0.7, 0), seed=0)
Xt, Yt = tg.Tensor(X_tr), tg.Tensor(y_tr.reshape(-1, 1).astype(np.float32))
m = len(X_tr)
print(f"train {X_tr.shape}, dev {X_dev.shape}")


def network(dropout=0.0):
    layers = [nn.Linear(2, 100, init="he_normal"), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers += [nn.Linear(100, 100, init="he_normal"), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(100, 1, init="he_normal"))
    return nn.Sequential(*layers)


def accuracy(model, X, y):
    model.eval()  # dropout off when predicting
    with tg.no_grad():
        acc = float(((model(tg.Tensor(X)).data[:, 0] > 0) == y).mean())
    model.train()
    return acc


# %% [markdown]
# ## L2 regularisation
#
# Add the squared Frobenius norms of the weight matrices to the cost (the biases are
# left alone; they are few and matter little):
#
# $$J_{\text{reg}} = \frac{1}{m}\sum_{i=1}^{m} \mathcal{L}\big(\hat{y}^{(i)}, y^{(i)}\big)
#   + \frac{\lambda}{2m} \sum_{l=1}^{L} \big\lVert W^{[l]} \big\rVert_F^2,
# \qquad \big\lVert W^{[l]} \big\rVert_F^2 = \sum_{i=1}^{n^{[l]}} \sum_{j=1}^{n^{[l-1]}}
#   \big(W^{[l]}_{ij}\big)^2.$$
#
# Its gradient adds one term to backprop's, and the gradient-descent step becomes
#
# $$dW^{[l]} = (\text{from backprop}) + \frac{\lambda}{m} W^{[l]}, \qquad
# W^{[l]} := \Big(1 - \frac{\alpha\lambda}{m}\Big) W^{[l]} - \alpha\,(\text{from backprop}).$$
#
# Every step first shrinks the weights by a factor slightly below 1: hence the name
# **weight decay**. Optimisers take it as `weight_decay` $= \lambda/m$. Let's check that
# writing the penalty into the cost and passing `weight_decay` give the same step:

# %%
lam, lr = 1.0, 0.1


def l2_penalty(model):
    return sum((p**2).sum() for name, p in model.named_parameters() if name.endswith("weight"))


def weights_and_biases(model, decay):
    """Two parameter groups: weights with weight decay, biases without."""
    named = list(model.named_parameters())
    return [{"params": [p for n, p in named if n.endswith("weight")], "weight_decay": decay},
            {"params": [p for n, p in named if n.endswith("bias")], "weight_decay": 0.0}]


tg.manual_seed(0)
explicit = network()
implicit = network()
implicit.load_state_dict(explicit.state_dict())

opt = optim.SGD(explicit.parameters(), lr=lr)
cost = F.binary_cross_entropy_with_logits(explicit(Xt), Yt) + lam / (2 * m) * l2_penalty(explicit)
cost.backward()
opt.step()

opt = optim.SGD(weights_and_biases(implicit, lam / m), lr=lr)
F.binary_cross_entropy_with_logits(implicit(Xt), Yt).backward()
opt.step()

gap = max(np.abs(a - b).max() for a, b in zip(explicit.state_dict().values(),
                                              implicit.state_dict().values()))
print(f"largest difference after one step: {gap:.1e}")

# %% [markdown]
# ## Inverted dropout
#
# On every training step, each unit of layer $l$ is kept with probability `keep_prob`
# and silenced otherwise; the survivors are divided by `keep_prob` so that the expected
# value of $A^{[l]}$, and so the scale of $Z^{[l+1]}$, does not change:
#
# ```python
# d3 = np.random.rand(*a3.shape) < keep_prob   # the mask, fresh every step
# a3 = a3 * d3 / keep_prob
# ```
#
# No unit can rely on any particular input, so the weights spread out, much like L2.
# At test time dropout is switched off and, thanks to the division, nothing needs
# rescaling. `F.dropout(a, p)` and `nn.Dropout(p)` take the **drop** probability
# $p = 1 - \text{keep\_prob}$, as PyTorch does. They draw the mask exactly like the
# snippet above from the library's generator, so the hand-written version matches:

# %%
keep_prob = 0.8
a3 = tg.rand(4, 6) + 0.5

tg.manual_seed(7)
library = F.dropout(a3, p=1 - keep_prob)
tg.manual_seed(7)
d3 = tg.random.generator().random(a3.shape) < keep_prob
by_hand = a3.data * d3 / keep_prob
print(np.round(library.data, 3))
same_mask = np.allclose(library.data, by_hand)

big = tg.ones(1000, 1000)
dropped = F.dropout(big, p=1 - keep_prob).data
print(f"kept {np.mean(dropped > 0):.3f} of the units (keep_prob = {keep_prob}); "
      f"mean activation {dropped.mean():.3f} (was 1)")
eval_identity = F.dropout(a3, p=0.5, training=False) is a3

# %% [markdown]
# ## Three models
#
# The same network and the same 600 Adam steps (full batch; `weight_decay` in Adam
# adds $\frac{\lambda}{m}W$ to the gradient, exactly the L2 term), trained three ways:
# without regularisation, with L2 ($\lambda = 1$), and with dropout
# ($p = 0.5$ after each hidden layer).

# %%
def train(model, decay=0.0, steps=600):
    opt = optim.Adam(weights_and_biases(model, decay), lr=0.01)
    for _ in range(steps):
        opt.zero_grad()
        F.binary_cross_entropy_with_logits(model(Xt), Yt).backward()
        opt.step()
    return model


models = {}
tg.manual_seed(0)
models["no regularisation"] = train(network())
tg.manual_seed(0)
models["L2, λ = 1"] = train(network(), decay=lam / m)
tg.manual_seed(0)
models["dropout, p = 0.5"] = train(network(dropout=0.5))

results = {name: (accuracy(model, X_tr, y_tr), accuracy(model, X_dev, y_dev))
           for name, model in models.items()}
for name, (train_acc, dev_acc) in results.items():
    print(f"{name:18}  train {train_acc:6.1%}  dev {dev_acc:6.1%}  gap {train_acc - dev_acc:5.1%}")

# %% [markdown]
# The course's recipe reads the errors against the **Bayes error**, the best error any
# classifier could reach. With noise of standard deviation 0.3 some points land on the
# other moon's side, so it is not 0 here. We know how the data was generated (points on
# two arcs plus Gaussian noise), so we can estimate it: classify fresh points by which
# arc's noise cloud is more likely to have produced them, and count the mistakes.

# %%
X_big, y_big = make_moons(5000, noise=0.3, seed=5)
t = np.linspace(0, np.pi, 200)
arcs = [np.stack([np.cos(t), np.sin(t)], axis=1),              # class 0
        np.stack([1 - np.cos(t), 0.5 - np.sin(t)], axis=1)]    # class 1


def likelihood(points, arc, noise=0.3):
    squared = ((points[:, None, :] - arc[None, :, :]) ** 2).sum(axis=-1)
    return np.exp(-squared / (2 * noise**2)).mean(axis=1)


bayes_error = float(np.mean((likelihood(X_big, arcs[1]) > likelihood(X_big, arcs[0]))
                            != y_big))
print(f"estimated Bayes error: {bayes_error:.1%}")
for name, (train_acc, dev_acc) in results.items():
    print(f"--- {name}\n{diagnose(1 - train_acc, 1 - dev_acc, bayes_error, tolerance=0.03)}")

# %%
fig, axes = plt.subplots(1, 4, figsize=(20, 4.5))
for (name, model), ax in zip(models.items(), axes):
    model.eval()
    train_acc, dev_acc = results[name]
    plot_decision_boundary(model, X_tr, y_tr, output="logits", resolution=120, ax=ax,
                           title=f"{name}\ntrain {train_acc:.0%}, dev {dev_acc:.0%}")
    model.train()
positions = np.arange(len(results))
axes[3].bar(positions - 0.2, [r[0] for r in results.values()], 0.4, label="train")
axes[3].bar(positions + 0.2, [r[1] for r in results.values()], 0.4, label="dev")
axes[3].set_xticks(positions, [n.split(",")[0] for n in results], rotation=10)
axes[3].set_ylim(0.8, 1.0)
axes[3].set_title("accuracy")
axes[3].legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# The unregularised boundary snakes around individual training points; both
# regularised boundaries are smoother. They give up a little training accuracy and gain
# dev accuracy: the train/dev gap, the variance, shrinks.
#
# ## Summary
#
# * L2 adds $\frac{\lambda}{2m}\sum\lVert W\rVert_F^2$ to the cost, i.e. $\frac{\lambda}{m}W$
#   to each $dW$: the optimisers' `weight_decay = λ/m`.
# * Inverted dropout silences units at random during training and divides the rest by
#   `keep_prob`; it is off at test time.
# * Both narrow the gap between training and dev accuracy.

# %%
train_none, dev_none = results["no regularisation"]
assert gap < 1e-6 and same_mask and eval_identity
assert abs(np.mean(dropped > 0) - keep_prob) < 0.01 and abs(dropped.mean() - 1) < 0.01
assert train_none - dev_none > 0.08, "the baseline should over-fit"
assert diagnose(1 - train_none, 1 - dev_none, bayes_error, tolerance=0.03).high_variance
assert 0.05 < bayes_error < 0.12
for name in ("L2, λ = 1", "dropout, p = 0.5"):
    train_acc, dev_acc = results[name]
    assert train_acc - dev_acc < (train_none - dev_none) - 0.04, name
    assert dev_acc >= dev_none, name
print("lesson checks passed: regularisation narrowed the train/dev gap")
