# %% [markdown]
# # 9. Softmax and batch normalisation: classifying handwritten digits
#
# *Course 2, week 3: normalising activations, batch norm at training and test time,
# softmax regression.*
#
# Two tools for multi-class networks. **Softmax** turns the last layer's scores into a
# probability for each of $C$ classes, and with the cross-entropy loss its gradient is
# once again "prediction minus label". **Batch normalisation** standardises the
# pre-activations of every hidden layer during training, which makes deeper networks
# much less sensitive to the learning rate. We check both against hand computations,
# then train a digit classifier with and without batch norm.

# %%
import matplotlib.pyplot as plt
import numpy as np

import tinygrad_ng as tg
import tinygrad_ng.functional as F
import tinygrad_ng.nn as nn
from tinygrad_ng import optim
from tinygrad_ng.data import DataLoader, Standardizer, make_spirals, train_dev_test_split
from tinygrad_ng.utils import ewa

# %% [markdown]
# ## Softmax
#
# For the output layer's scores $z^{[L]} \in \mathbb{R}^C$:
#
# $$t = e^{z^{[L]}} \;(\text{elementwise}), \qquad
#   a^{[L]}_j = \frac{t_j}{\sum_{k=1}^{C} t_k}.$$
#
# The course's example with $C = 4$: $z = (5, 2, -1, 3)$ gives
# $t \approx (148.4, 7.4, 0.4, 20.1)$, $\sum_k t_k \approx 176.3$ and
# $a \approx (0.842, 0.042, 0.002, 0.114)$. The largest score gets most of the
# probability, but unlike "hardmax" $(1, 0, 0, 0)$ every class keeps some.

# %%
z = np.array([5.0, 2.0, -1.0, 3.0])
t = np.exp(z)
a_hand = t / t.sum()
a_lib = F.softmax(tg.Tensor(z)).data
print("t =", np.round(t, 1), " sum =", round(t.sum(), 1))
print("softmax by hand:", np.round(a_hand, 3), " F.softmax:", np.round(a_lib, 3))

# %% [markdown]
# Softmax generalises logistic regression: with $C = 2$ and scores $(z, 0)$ the first
# probability is $e^z/(e^z + 1) = \sigma(z)$.

# %%
zs = np.linspace(-4, 4, 9)
two_class = F.softmax(tg.Tensor(np.stack([zs, np.zeros_like(zs)], axis=1))).data[:, 0]
print(np.allclose(two_class, 1 / (1 + np.exp(-zs))))

# %% [markdown]
# ## The loss and its gradient
#
# With a one-hot label $y$ the loss keeps only the log-probability of the true class:
#
# $$\mathcal{L}(\hat{y}, y) = -\sum_{j=1}^{C} y_j \log \hat{y}_j, \qquad
#   J = \frac{1}{m} \sum_{i=1}^{m} \mathcal{L}\big(\hat{y}^{(i)}, y^{(i)}\big).$$
#
# The course's example: $y = (0, 1, 0, 0)$ and $\hat{y} = (0.3, 0.2, 0.1, 0.4)$ give
# $\mathcal{L} = -\log 0.2 \approx 1.609$: to lower the loss, raise $\hat{y}_2$.
#
# Differentiating through softmax and the log gives the same shortcut as for the
# sigmoid (now for a whole batch, rows are examples):
#
# $$dZ^{[L]} = \hat{Y} - Y.$$
#
# `F.cross_entropy(logits, target)` fuses softmax and this loss in one stable node. The
# target can be the class indices or one-hot rows; the gradient, times $m$, should be
# exactly $\hat{Y} - Y$:

# %%
y_hat = np.array([0.3, 0.2, 0.1, 0.4])
print(f"loss of the example: {-np.log(y_hat[1]):.3f}")

rng = np.random.default_rng(0)
logits = tg.Tensor(rng.standard_normal((5, 4)), requires_grad=True)
labels = np.array([1, 0, 3, 3, 2])
J = F.cross_entropy(logits, labels)
J.backward()
one_hot = np.eye(4)[labels]
dZ = F.softmax(logits).data - one_hot
print("m · dJ/dZ from autograd equals Ŷ − Y:", np.allclose(5 * logits.grad, dZ))
J_onehot = F.cross_entropy(logits.detach(), one_hot)
print(f"J with class indices {J.item():.6f}, with one-hot rows {J_onehot.item():.6f}")

# %% [markdown]
# ## Batch normalisation
#
# Normalising the inputs speeds up learning; batch norm does the same for the inputs of
# every later layer. For one layer and a mini-batch of $m$ values $z^{(i)}$ of each
# unit:
#
# $$\mu = \frac{1}{m} \sum_i z^{(i)}, \qquad \sigma^2 = \frac{1}{m} \sum_i (z^{(i)} - \mu)^2,
#   \qquad z^{(i)}_{\text{norm}} = \frac{z^{(i)} - \mu}{\sqrt{\sigma^2 + \varepsilon}},
#   \qquad \tilde{z}^{(i)} = \gamma\, z^{(i)}_{\text{norm}} + \beta.$$
#
# $\gamma$ and $\beta$ (one per unit) are learned like the weights, so the network can
# choose any mean and spread for each unit, including undoing the normalisation: with
# $\gamma = \sqrt{\sigma^2 + \varepsilon}$ and $\beta = \mu$, $\tilde{z} = z$. (This
# $\beta$ is not Adam's.) Since the mean is subtracted, a bias $b^{[l]}$ before batch
# norm does nothing: use `nn.Linear(..., bias=False)`.

# %%
Z = rng.normal(3.0, 2.0, (8, 4))                     # a batch: m = 8, 4 units
gamma, beta, eps = rng.uniform(0.5, 2.0, 4), rng.normal(size=4), 1e-5
mu, var = Z.mean(axis=0), Z.var(axis=0)
Z_tilde = gamma * (Z - mu) / np.sqrt(var + eps) + beta
Z_lib = F.batch_norm(tg.Tensor(Z), tg.Tensor(gamma), tg.Tensor(beta), eps=eps).data
print("by hand equals F.batch_norm:", np.allclose(Z_tilde, Z_lib))

undone = F.batch_norm(tg.Tensor(Z), tg.Tensor(np.sqrt(var + eps)), tg.Tensor(mu), eps=eps).data
print("γ = √(σ² + ε), β = μ gives back z:", np.allclose(undone, Z))

inputs = [tg.Tensor(v, requires_grad=True) for v in (Z, gamma, beta)]
print("backward passes the gradient check:", tg.gradcheck(F.batch_norm, inputs))

# %% [markdown]
# ### At test time
#
# A prediction may concern a single example, which has no batch mean or variance. So
# during training `nn.BatchNorm1d` also keeps exponentially weighted averages of the
# batch statistics (`running_mean`, `running_var`, updated as
# $r := (1 - 0.1)\,r + 0.1 \cdot \text{batch statistic}$, i.e. EWA with $\beta = 0.9$),
# and `model.eval()` switches to them.

# %%
layer = nn.BatchNorm1d(4)
for _ in range(50):
    layer(tg.Tensor(rng.normal(3.0, 2.0, (32, 4))))
print("running mean:", np.round(layer.running_mean.data, 2), "(true 3)")
print("running var: ", np.round(layer.running_var.data, 2), "(true 4)")
layer.eval()
one = layer(tg.Tensor([[3.0, 5.0, 1.0, 3.0]]))
print("one example in eval mode:", np.round(one.data, 2))

# %% [markdown]
# ## Handwritten digits
#
# scikit-learn's digits: 1,797 images of 8×8 pixels, ten classes. (Without scikit-learn
# we fall back to three interleaved spirals.) Inputs are standardised with the training
# set's statistics; 70/15/15 split.

# %%
try:
    from sklearn.datasets import load_digits

    digits = load_digits()
    X_all, y_all, source = digits.data, digits.target, "digits"
except ImportError:
    X_all, y_all = make_spirals(1500, classes=3, noise=0.1, seed=0)
    source = "spirals"
(X_tr, y_tr), (X_dev, y_dev), (X_te, y_te) = train_dev_test_split(
    X_all.astype(np.float32), y_all, fractions=(0.7, 0.15, 0.15), seed=0)
scaler = Standardizer().fit(X_tr)
X_tr, X_dev, X_te = (scaler.transform(v) for v in (X_tr, X_dev, X_te))
n_x, C = X_tr.shape[1], int(y_all.max()) + 1
print(f"{source}: train {X_tr.shape}, dev {X_dev.shape}, test {X_te.shape}, {C} classes")

# %% [markdown]
# The network has four hidden ReLU layers $[n_x, 64, 64, 64, 32]$ and a linear output
# layer with $C$ units whose scores go into the cross-entropy (softmax included). With
# batch norm each hidden layer is LINEAR (no bias) → BATCHNORM → RELU.

# %%
def network(batch_norm):
    sizes = [n_x, 64, 64, 64, 32]
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers.append(nn.Linear(n_in, n_out, bias=not batch_norm, init="he_normal"))
        if batch_norm:
            layers.append(nn.BatchNorm1d(n_out))
        layers.append(nn.ReLU())
    layers.append(nn.Linear(sizes[-1], C))
    return nn.Sequential(*layers)


def fit(model, lr, costs, epochs=10):
    """Mini-batch gradient descent; the cost of every mini-batch is appended to costs."""
    opt = optim.SGD(model.parameters(), lr=lr)
    loader = DataLoader(X_tr, y_tr, batch_size=64, seed=0)
    for _ in range(epochs):
        for xb, yb in loader:
            opt.zero_grad()
            cost = F.cross_entropy(model(xb), yb)
            cost.backward()
            opt.step()
            costs.append(cost.item())


def train(batch_norm, lr, epochs=10):
    tg.manual_seed(0)
    model, costs = network(batch_norm), []
    fit(model, lr, costs, epochs)
    return model.eval(), np.array(costs)


def accuracy(model, X, y):
    with tg.no_grad():
        return float((model(tg.Tensor(X)).data.argmax(axis=1) == y).mean())


print(network(batch_norm=True))

# %% [markdown]
# Mini-batch gradient descent, 10 epochs, once with a modest learning rate
# $\alpha = 0.1$ and once with a ten times larger one.

# %%
runs = {(bn, lr): train(bn, lr) for lr in (0.1, 1.0) for bn in (False, True)}
dev_acc = {key: accuracy(model, X_dev, y_dev) for key, (model, _) in runs.items()}

fig, axes = plt.subplots(1, 2, figsize=(13, 4), sharey=True)
for ax, lr in zip(axes, (0.1, 1.0)):
    for bn in (False, True):
        name = "with batch norm" if bn else "without"
        ax.plot(ewa(runs[bn, lr][1], beta=0.9),
                label=f"{name}: dev accuracy {dev_acc[bn, lr]:.1%}")
    ax.set(title=f"α = {lr}", xlabel="iteration", ylim=(0, 2.5))
    ax.grid(alpha=0.3)
    ax.legend()
axes[0].set_ylabel("mini-batch cost (EWA)")
plt.show()

# %% [markdown]
# At $\alpha = 0.1$ both train well. At $\alpha = 1$ the batch-normalised network trains
# even faster, while the plain one's curve stops part-way: its cost has become `nan`
# (not a number). That is worth a closer look.
#
# ## Divergence: the plain network at α = 1
#
# The costs of the plain network just before the first `nan`:

# %%
# (the fallback spirals need a larger step to diverge: α = 2)
big_lr = 1.0 if source == "digits" else 2.0
plain_costs = runs[False, 1.0][1] if big_lr == 1.0 else train(False, big_lr)[1]
first_nan = int(np.flatnonzero(~np.isfinite(plain_costs))[0])
print(f"the cost is finite up to iteration {first_nan - 1}, then nan for good: "
      f"{np.isnan(plain_costs[first_nan:]).all()}")
print("the last costs before it:", " ".join(f"{c:.3g}" for c in plain_costs[first_nan - 8:
                                                                         first_nan]))

fig, ax = plt.subplots(figsize=(7, 3.5))
ax.semilogy(plain_costs[:first_nan], label=f"without batch norm, α = {big_lr:g}")
ax.axvline(first_nan, color="r", linestyle="--", label=f"cost is nan from {first_nan}")
ax.set(xlabel="iteration", ylabel="mini-batch cost (log scale)")
ax.grid(alpha=0.3)
ax.legend()
plt.show()

# %% [markdown]
# For a few epochs the cost goes down like the others'. Then one step is too large
# for the curvature where it lands: it overshoots, and the cost goes *up*. A higher cost
# comes with a larger gradient, so the next step, $\alpha\,dW$, is larger still and
# overshoots further: a feedback loop. The weights grow, and because every layer
# multiplies its input by its $W$, the activations of a 5-layer network grow like the
# product of five weight scales. Within a handful of iterations the cost goes from below 1
# to astronomical values.
#
# A float32 holds numbers up to about $3.4 \cdot 10^{38}$. The next forward pass
# overflows to `inf` in a matrix product; `inf − inf` (or `0 · inf`) gives `nan`, the
# update writes `nan` into every weight, and from then on the network computes nothing
# but `nan` (its dev accuracy above is chance level).
#
# Batch norm breaks the loop: each layer's pre-activations are standardised again, so
# larger weights no longer mean larger activations ($\mathrm{BN}(c\,Wx) = \mathrm{BN}(Wx)$
# for $c > 0$), and the gradient with respect to $W$ shrinks as $W$ grows.
#
# `tg.detect_anomaly()` finds where the first non-finite number appears: inside it, every
# op checks its output (forward and backward) and raises `AnomalyError` naming the op and
# the line that created it. It slows every op down, so it is for debugging; here we train
# the same network again (same seed, same mini-batches) under it:

# %%
tg.manual_seed(0)
model, costs, anomaly = network(batch_norm=False), [], None
try:
    with tg.detect_anomaly():
        fit(model, lr=big_lr, costs=costs)
except tg.AnomalyError as e:
    anomaly = str(e)
print(f"stopped in iteration {len(costs)}:\n{anomaly}")
largest = [float(np.abs(layer.weight.data).max()) for layer in model
           if isinstance(layer, nn.Linear)]
print("largest |weight| of each layer now:", " ".join(f"{w:.2g}" for w in largest))

# %% [markdown]
# The first `inf` appears in the forward pass of a `linear` layer (`x @ W.T + b`), in
# the iteration whose cost was the first `nan` above: with weights this large, two layers
# are enough to pass float32's largest number. The cure is a smaller $\alpha$, or batch
# norm. The best model on the dev set goes to the test set, once:

# %%
best = max(dev_acc, key=dev_acc.get)
model = runs[best][0]
test_acc = accuracy(model, X_te, y_te)
print(f"best on dev: batch norm {best[0]}, α = {best[1]}; test accuracy {test_acc:.1%}")

with tg.no_grad():
    probs = F.softmax(model(tg.Tensor(X_te[:12]))).data
if source == "digits":
    fig, axes = plt.subplots(1, 12, figsize=(15, 1.8))
    for ax, image, p, label in zip(axes, scaler.inverse_transform(X_te[:12]), probs,
                                   y_te[:12]):
        ax.imshow(image.reshape(8, 8), cmap="gray_r")
        ax.set_title(f"{p.argmax()} ({p.max():.0%})", color="k" if p.argmax() == label
                     else "r", fontsize=10)
        ax.axis("off")
    plt.suptitle("predicted digit (softmax probability)", y=1.15)
    plt.show()

# %% [markdown]
# ## Summary
#
# * Softmax maps scores to class probabilities; with cross-entropy, $dZ = \hat{Y} - Y$.
# * Batch norm standardises each unit over the mini-batch, then rescales by learned
#   $\gamma, \beta$; at test time it uses running averages of the batch statistics.
# * It made a 4-hidden-layer network train well with a ten times larger learning rate.

# %%
assert np.allclose(a_hand, [0.842, 0.042, 0.002, 0.114], atol=5e-4)
assert np.allclose(a_lib, a_hand) and np.allclose(two_class, 1 / (1 + np.exp(-zs)))
assert np.allclose(5 * logits.grad, dZ) and np.isclose(J.item(), J_onehot.item())
assert np.allclose(Z_tilde, Z_lib) and np.allclose(undone, Z)
assert np.allclose(layer.running_mean.data, 3.0, atol=0.5)
first_epoch = len(runs[True, 1.0][1]) // 10
assert runs[True, 1.0][1][:first_epoch].mean() < runs[False, 1.0][1][:first_epoch].mean()
assert dev_acc[True, 1.0] >= dev_acc[False, 1.0]
assert test_acc >= (0.93 if source == "digits" else 0.85), test_acc
assert np.isfinite(plain_costs[:first_nan]).all() and np.isnan(plain_costs[first_nan:]).all()
assert plain_costs[first_nan - 1] > 100 * plain_costs[: first_nan // 2].max()  # it exploded
assert "forward produced Inf" in anomaly and len(costs) == first_nan
print(f"lesson checks passed: test accuracy {test_acc:.1%} on {source}")
