# %% [markdown]
# # 3. Planar data with one hidden layer
#
# *Course 1, week 3: shallow neural networks.*
#
# A "flower" of red and blue points in the plane cannot be split by a straight line, so
# logistic regression fails on it. One hidden layer of a few tanh units is enough. We
# write down the network's equations, check its backward pass, then watch how the
# decision boundary changes with the number of hidden units.
#
# The notebook draws its randomness as the course's code does
# (`tg.manual_seed(seed, legacy=True)`: NumPy's global generator, `np.random.seed` then
# `np.random.randn`, in the course's order), so its data and initial weights are the
# course's own and its costs match the course's printout.

# %%
import matplotlib.pyplot as plt
import numpy as np

import tinygrad_ng as tg
import tinygrad_ng.functional as F
import tinygrad_ng.nn as nn
from tinygrad_ng import optim
from tinygrad_ng.data import make_flower
from tinygrad_ng.viz import plot_decision_boundary, plot_history

# %% [markdown]
# ## The data
#
# 400 points $x^{(i)} \in \mathbb{R}^2$, labels $y^{(i)} \in \{0, 1\}$, arranged in
# petals. Batch-first: `X` has shape $(m, n_x) = (400, 2)$ and `Y` shape $(400, 1)$. In
# legacy mode `make_flower(400, seed=1)` is the course's `load_planar_dataset()` point for
# point (transposed: the course's `X` has shape $(2, 400)$).

# %%
tg.manual_seed(1, legacy=True)  # draw as the course does, from here on
X, y = make_flower(m=400, seed=1)
Y = y.reshape(-1, 1).astype(np.float32)
Xt, Yt = tg.Tensor(X), tg.Tensor(Y)
m = len(X)
print("X", X.shape, "Y", Y.shape)

plt.figure(figsize=(4, 4))
plt.scatter(X[:, 0], X[:, 1], c=y, cmap="Spectral", s=15, edgecolors="k", linewidths=0.3)
plt.title("the flower data set")
plt.show()

# %% [markdown]
# ## A training loop for any model
#
# Full-batch gradient descent on the cross-entropy cost. The model returns the logits
# $z$ (no sigmoid): `binary_cross_entropy_with_logits` applies the sigmoid inside the
# loss, where it is numerically safe. A point is predicted as class 1 when $z > 0$,
# i.e. when $\sigma(z) > 0.5$.

# %%
def train(model, iterations=1000, lr=1.2):
    opt = optim.SGD(model.parameters(), lr=lr)
    costs = []
    for _ in range(iterations):
        opt.zero_grad()
        cost = F.binary_cross_entropy_with_logits(model(Xt), Yt)
        cost.backward()
        opt.step()
        costs.append(cost.item())
    return costs


def accuracy(model):
    with tg.no_grad():
        return float(((model(Xt).data > 0) == (Y > 0.5)).mean())


# %% [markdown]
# ## Logistic regression first
#
# A single linear unit draws one straight boundary. On this data it does no better than
# a coin toss (the course reports 47% on the same data).

# %%
tg.manual_seed(3, legacy=True)
logreg = nn.Linear(2, 1)
train(logreg, iterations=300)
acc_logreg = accuracy(logreg)
plot_decision_boundary(logreg, X, y, output="logits",
                       title=f"logistic regression: {acc_logreg:.0%}")
plt.show()

# %% [markdown]
# ## One hidden layer
#
# With $n_h$ tanh units in the hidden layer and one sigmoid output, for the whole batch
# (rows are examples; the course's column version is the transpose):
#
# $$Z^{[1]} = X W^{[1]T} + b^{[1]}, \qquad A^{[1]} = \tanh\big(Z^{[1]}\big),$$
# $$Z^{[2]} = A^{[1]} W^{[2]T} + b^{[2]}, \qquad A^{[2]} = \sigma\big(Z^{[2]}\big) = \hat{Y}.$$
#
# | quantity | course (columns) | here (rows) |
# |---|---|---|
# | $W^{[1]}$ | $(n_h, n_x)$ | $(n_h, n_x)$ — `Linear(n_x, n_h).weight` |
# | $b^{[1]}$ | $(n_h, 1)$ | $(n_h,)$ |
# | $Z^{[1]}, A^{[1]}$ | $(n_h, m)$ | $(m, n_h)$ |
# | $W^{[2]}$ | $(1, n_h)$ | $(1, n_h)$ |
# | $Z^{[2]}, A^{[2]}$ | $(1, m)$ | $(m, 1)$ |
#
# Backpropagation, with $\tanh'(z) = 1 - \tanh^2(z) = 1 - a^2$:
#
# $$dZ^{[2]} = A^{[2]} - Y, \qquad dW^{[2]} = \tfrac{1}{m}\, dZ^{[2]T} A^{[1]}, \qquad
#   db^{[2]} = \tfrac{1}{m} \textstyle\sum_i dZ^{[2](i)},$$
# $$dZ^{[1]} = dZ^{[2]} W^{[2]} \ast \big(1 - (A^{[1]})^2\big), \qquad
#   dW^{[1]} = \tfrac{1}{m}\, dZ^{[1]T} X, \qquad db^{[1]} = \tfrac{1}{m} \textstyle\sum_i
#   dZ^{[1](i)},$$
#
# where $\ast$ is the elementwise product. Like the course, initialise the weights with
# small random numbers (`randn · 0.01`, here `init="normal"`) and the biases with zeros.
# After `tg.manual_seed(2, legacy=True)` the layers, built in order, draw exactly the
# course's `initialize_parameters(2, 4, 1)`, which seeds 2.
# Let's confirm these six formulas against autograd on a fresh network:

# %%
def two_layer(n_h):
    return nn.Sequential(nn.Linear(2, n_h, init="normal"), nn.Tanh(),
                         nn.Linear(n_h, 1, init="normal"))


tg.manual_seed(2, legacy=True)
net = two_layer(4)
F.binary_cross_entropy_with_logits(net(Xt), Yt).backward()

W1, b1, W2, b2 = (p.data for p in net.parameters())
A1 = np.tanh(X @ W1.T + b1)
A2 = 1 / (1 + np.exp(-(A1 @ W2.T + b2)))
dZ2 = A2 - Y
dW2, db2 = dZ2.T @ A1 / m, dZ2.mean(axis=0)
dZ1 = dZ2 @ W2 * (1 - A1**2)
dW1, db1 = dZ1.T @ X / m, dZ1.mean(axis=0)
for (name, p), mine in zip(net.named_parameters(), (dW1, db1, dW2, db2)):
    print(f"{name:9} {str(p.shape):8} largest difference {np.abs(p.grad - mine).max():.1e}")
    assert np.allclose(p.grad, mine, atol=1e-6)

# %% [markdown]
# ## Training with 4 hidden units
#
# Gradient descent with $\alpha = 1.2$, as in the course. The cost falls steeply once
# the units find the petals. From the course's data and initial weights, the costs are
# the course's (it prints 0.693048 at iteration 0 and 0.288083 at iteration 1000; here in
# float32, the course computes in float64).

# %%
tg.manual_seed(2, legacy=True)
net4 = two_layer(4)
costs4 = train(net4)
acc4 = accuracy(net4)
with tg.no_grad():
    cost_1000 = F.binary_cross_entropy_with_logits(net4(Xt), Yt).item()
print(f"Cost after iteration 0: {costs4[0]:.6f}    (the course: 0.693048)")
print(f"Cost after iteration 1000: {cost_1000:.6f} (the course: 0.288083)")
print(f"accuracy {acc4:.1%}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
plot_history(costs4, title="cost, 4 hidden units", ax=ax1)
plot_decision_boundary(net4, X, y, output="logits", title=f"4 hidden units: {acc4:.0%}",
                       ax=ax2)
plt.show()

# %% [markdown]
# ## How many hidden units?
#
# The course's experiment: the same training for $n_h \in \{1, 2, 3, 4, 5, 20, 50\}$.
# With one or two units the network can only draw one or two soft "cuts"; from three or
# four on it captures the petals; beyond that the boundary gets more intricate without
# getting much better (and a larger network could start fitting the noise).

# %%
sizes = [1, 2, 3, 4, 5, 20, 50]
acc_by_size = {}
fig, axes = plt.subplots(2, 4, figsize=(16, 8))
plot_decision_boundary(logreg, X, y, output="logits", resolution=100, ax=axes[0, 0],
                       title=f"logistic regression: {acc_logreg:.0%}")
for n_h, ax in zip(sizes, axes.ravel()[1:]):
    if n_h == 4:
        model = net4  # trained above, with the same seed
    else:
        tg.manual_seed(2, legacy=True)
        model = two_layer(n_h)
        train(model)
    acc_by_size[n_h] = accuracy(model)
    plot_decision_boundary(model, X, y, output="logits", resolution=100, ax=ax,
                           title=f"{n_h} hidden unit{'s' * (n_h > 1)}: {acc_by_size[n_h]:.0%}")
plt.tight_layout()
plt.show()
print({n_h: f"{a:.1%}" for n_h, a in acc_by_size.items()})

# %% [markdown]
# ## Summary
#
# * A straight line cannot separate the petals (about 50%); one hidden layer of 4 tanh
#   units does (about 90%).
# * The hidden layer's backward pass is three lines of linear algebra, and autograd
#   agrees with them.
# * Drawing as the course does (`tg.manual_seed(seed, legacy=True)`) gives the course's
#   data, initial weights and costs.
# * Too few units underfit; more units help until the data's structure is captured.

# %%
assert abs(costs4[0] - 0.693048) < 1e-5 and abs(cost_1000 - 0.288083) < 1e-4, costs4[0]
assert acc_logreg < 0.6, acc_logreg
assert acc4 >= 0.85, acc4
assert acc_by_size[1] < acc4 - 0.1
assert all(acc_by_size[n_h] >= 0.85 for n_h in (3, 4, 5, 20, 50)), acc_by_size
print(f"lesson checks passed: logistic regression {acc_logreg:.0%}, 4 hidden units {acc4:.0%}")
