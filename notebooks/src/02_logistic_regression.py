# %% [markdown]
# # 2. Logistic regression as a neural network
#
# *Course 1, week 2: binary classification, the logistic cost, gradient descent,
# vectorisation.*
#
# Logistic regression is the smallest neural network: one unit with a sigmoid. We write
# its forward pass, cost and gradients with NumPy exactly as the course derives them,
# check the famous $dz = a - y$ against autograd, and train it on a real medical data
# set (breast tumours, malignant or benign).

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

import tinygrad_ng as tg
import tinygrad_ng.functional as F
from tinygrad_ng import optim
from tinygrad_ng.data import Standardizer, train_dev_test_split
from tinygrad_ng.viz import plot_history

tg.manual_seed(0)

# %% [markdown]
# ## Notation
#
# One example is a feature vector $x \in \mathbb{R}^{n_x}$ with a label $y \in \{0, 1\}$.
# The model predicts $\hat{y} = P(y = 1 \mid x)$:
#
# $$z = w^T x + b, \qquad \hat{y} = a = \sigma(z) = \frac{1}{1 + e^{-z}},$$
#
# with parameters $w \in \mathbb{R}^{n_x}$ and $b \in \mathbb{R}$. The course stacks the
# $m$ examples as **columns** of $X$ (shape $(n_x, m)$); `tinygrad_ng`, like most
# libraries, stacks them as **rows** (shape $(m, n_x)$, "batch-first"). The two are
# transposes of each other, so the course's $Z = w^T X + b$ (a row of $m$ values)
# becomes $Z = X w + b$ here (a column of $m$ values). Same numbers, other layout.
#
# ## Vectorisation
#
# Computing $z^{(i)}$ for every example with a Python loop works but is slow; one matrix
# product does all of them at once, and NumPy runs it in optimised compiled code. The
# course's demonstration, scaled down:

# %%
rng = np.random.default_rng(0)
p, q = rng.random(200_000), rng.random(200_000)

start = time.perf_counter()
loop = 0.0
for i in range(len(p)):
    loop += p[i] * q[i]
loop_ms = 1000 * (time.perf_counter() - start)

start = time.perf_counter()
vectorised = np.dot(p, q)
dot_ms = 1000 * (time.perf_counter() - start)
print(f"for loop: {loop:.4f} in {loop_ms:.1f} ms;  np.dot: {vectorised:.4f} in {dot_ms:.3f} ms")

# %% [markdown]
# The same holds for the whole forward pass: one example at a time in a loop, or
# $Z = Xw + b$ for all $m$ of them in one line. Both give identical numbers.

# %%
def sigmoid(z):
    return 1 / (1 + np.exp(-z))


X_demo = rng.standard_normal((5, 3))          # m = 5 examples, n_x = 3 features (rows)
w_demo, b_demo = rng.standard_normal((3, 1)), 0.5
looped = np.array([[sigmoid(w_demo[:, 0] @ X_demo[i] + b_demo)] for i in range(5)])
vector = sigmoid(X_demo @ w_demo + b_demo)
print(np.hstack([looped, vector]))
assert np.allclose(looped, vector)

# %% [markdown]
# ## The cost
#
# For one example the loss is the cross-entropy
#
# $$\mathcal{L}(a, y) = -\big(y \log a + (1 - y) \log(1 - a)\big),$$
#
# small when $a$ is near $y$ (if $y = 1$ it is $-\log a$, so $a$ is pushed up; if
# $y = 0$ it is $-\log(1 - a)$, so $a$ is pushed down). The **cost** averages the losses
# over the training set:
#
# $$J(w, b) = \frac{1}{m} \sum_{i=1}^{m} \mathcal{L}\big(a^{(i)}, y^{(i)}\big).$$
#
# ## The gradient: $dz = a - y$
#
# Backward through one example with the chain rule:
#
# $$\frac{d\mathcal{L}}{da} = -\frac{y}{a} + \frac{1 - y}{1 - a}, \qquad
# \frac{da}{dz} = \sigma(z)\big(1 - \sigma(z)\big) = a(1 - a),$$
#
# $$dz = \frac{d\mathcal{L}}{da}\,\frac{da}{dz}
#      = \frac{-y(1 - a) + (1 - y)a}{a(1 - a)}\; a(1 - a) = a - y.$$
#
# The awkward fractions cancel. Then $z = w^T x + b$ gives $dw_j = x_j\, dz$ and
# $db = dz$, and averaging over the $m$ examples (batch-first layout):
#
# $$dZ = A - Y, \qquad dw = \frac{1}{m} X^T dZ, \qquad db = \frac{1}{m} \sum_i dZ^{(i)}.$$
#
# ### Checking it against autograd
#
# Build $J$ from elementary operations only (`exp`, `log`, `+`, `*`, …), so that
# autograd knows nothing about the shortcut and has to chain through every step. Then
# compare its $\frac{\partial J}{\partial z}$ (times $m$, since $J$ averages) with
# $a - y$, and its $\frac{\partial J}{\partial w}$ with the formula. Everything in float64.

# %%
m_chk, n_chk = 8, 3
Xc = tg.Tensor(rng.standard_normal((m_chk, n_chk)))
Yc = tg.Tensor(rng.integers(0, 2, (m_chk, 1)).astype(np.float64))
w = tg.Tensor(rng.standard_normal((n_chk, 1)), requires_grad=True)
b = tg.Tensor(np.float64(0.1), requires_grad=True)

z = Xc @ w + b
z.retain_grad()
a = 1 / (1 + (-z).exp())
J = (-(Yc * a.log() + (1 - Yc) * (1 - a).log())).mean()
J.backward()

dZ = a.data - Yc.data                       # the course's shortcut
dw = Xc.data.T @ dZ / m_chk
db = dZ.mean()
print("m * dJ/dz (autograd):", np.round(m_chk * z.grad.ravel(), 6))
print("a - y     (formula): ", np.round(dZ.ravel(), 6))
assert np.allclose(m_chk * z.grad, dZ) and np.allclose(w.grad, dw) and np.isclose(b.grad, db)

# %% [markdown]
# The library's `F.binary_cross_entropy_with_logits(z, y)` is the same cost as **one**
# graph node: it takes $z$ (the "logits") instead of $a$, computes the loss in a form
# that cannot overflow, and its backward is exactly $(a - y)/m$. Same gradient, fewer
# nodes, no $\log 0$.

# %%
z2 = tg.Tensor(z.data.copy(), requires_grad=True)
J2 = F.binary_cross_entropy_with_logits(z2, Yc)
J2.backward()
print(f"J from primitives {J.item():.10f}, fused {J2.item():.10f}")
assert np.isclose(J.item(), J2.item()) and np.allclose(z2.grad, z.grad)

# %% [markdown]
# ## A real data set
#
# The Wisconsin breast-cancer data (569 tumours, 30 measurements each, label 1 =
# benign) ships with scikit-learn. Without scikit-learn we fall back to a generated
# set of the same shape: two overlapping Gaussian clouds.

# %%
try:
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    X_all, y_all = data.data, data.target
    source = "scikit-learn breast cancer"
except ImportError:
    centres = rng.standard_normal((2, 30))
    y_all = rng.integers(0, 2, 569)
    X_all = centres[y_all] + 1.5 * rng.standard_normal((569, 30))
    source = "generated Gaussian clouds"
print(f"{source}: X {X_all.shape}, {y_all.mean():.0%} positive")

# %% [markdown]
# Split 60/20/20 into train, dev and test sets (the course's rule of thumb for a small
# data set), then **standardise** every feature to mean 0 and standard deviation 1 using
# the training set's statistics only. Without this, features measured in thousands
# would dominate those measured in fractions and gradient descent would crawl.

# %%
train, dev, test = train_dev_test_split(X_all, y_all.reshape(-1, 1).astype(np.float64),
                                        fractions=(0.6, 0.2, 0.2), seed=1)
scaler = Standardizer().fit(train[0])
(X_tr, Y_tr), (X_dev, Y_dev), (X_te, Y_te) = [(scaler.transform(X), Y)
                                              for X, Y in (train, dev, test)]
m, n_x = X_tr.shape
print(f"train {X_tr.shape}, dev {X_dev.shape}, test {X_te.shape}")

# %% [markdown]
# ## Gradient descent, by hand
#
# The course's two functions: `propagate` computes the cost and its gradients in one
# vectorised forward and backward pass; `optimize` repeats
# $w := w - \alpha\, dw$, $b := b - \alpha\, db$.

# %%
def propagate(w, b, X, Y):
    A = sigmoid(X @ w + b)                                   # forward
    cost = -np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A))
    dZ = A - Y                                               # backward
    return cost, X.T @ dZ / len(X), dZ.mean()


def optimize(w, b, X, Y, iterations, lr):
    costs = []
    for _ in range(iterations):
        cost, dw, db = propagate(w, b, X, Y)
        w, b = w - lr * dw, b - lr * db
        costs.append(cost)
    return w, b, costs


iterations, lr = 300, 0.5
w_hand, b_hand, costs_hand = optimize(np.zeros((n_x, 1)), 0.0, X_tr, Y_tr, iterations, lr)
print(f"cost: {costs_hand[0]:.4f} at the start (= log 2: every a = 0.5), "
      f"{costs_hand[-1]:.4f} after {iterations} steps")

# %% [markdown]
# ## The same with tinygrad_ng
#
# Autograd replaces `propagate`'s backward half, and `optim.SGD` the update. Starting
# from the same zeros, every step should match the hand-written one to rounding error.

# %%
w_t = tg.Tensor(np.zeros((n_x, 1)), requires_grad=True)
b_t = tg.Tensor(np.zeros(1), requires_grad=True)
opt = optim.SGD([w_t, b_t], lr=lr)
Xt, Yt = tg.Tensor(X_tr), tg.Tensor(Y_tr)
costs_auto = []
for _ in range(iterations):
    opt.zero_grad()
    cost = F.binary_cross_entropy_with_logits(Xt @ w_t + b_t, Yt)
    cost.backward()
    opt.step()
    costs_auto.append(cost.item())

print("largest |w_hand - w_autograd|:", np.abs(w_hand - w_t.data).max())
plot_history({"by hand": costs_hand, "autograd + SGD": costs_auto},
             title=f"Logistic regression on the {source} data (α = {lr})")
plt.show()

# %% [markdown]
# ## How good is it?
#
# Predict $1$ when $a > 0.5$, i.e. when $z > 0$.

# %%
def accuracy(w, b, X, Y):
    return float(((X @ w + b > 0) == (Y > 0.5)).mean())


acc = {name: accuracy(w_hand, b_hand, X, Y)
       for name, (X, Y) in {"train": (X_tr, Y_tr), "dev": (X_dev, Y_dev),
                            "test": (X_te, Y_te)}.items()}
print({k: f"{v:.1%}" for k, v in acc.items()})

fig, ax = plt.subplots(figsize=(7, 3))
order = np.argsort(np.abs(w_hand[:, 0]))[::-1][:10]
names = data.feature_names[order] if source.startswith("scikit") else order
ax.barh([str(nm) for nm in names][::-1], w_hand[order, 0][::-1])
ax.set_title("the 10 largest weights (standardised features)")
plt.show()

# %% [markdown]
# ## Summary
#
# * One sigmoid unit, the cross-entropy cost and $dz = a - y$ are all of logistic
#   regression; vectorised, the whole gradient is two lines.
# * Autograd reproduces the hand-derived gradient exactly, and training with it follows
#   the same path step for step.
#
# The lesson holds if the two implementations agree and the classifier does well on
# tumours it never saw (the test set).

# %%
assert np.allclose(costs_hand, costs_auto, rtol=1e-10)
assert np.allclose(w_hand, w_t.data, atol=1e-8)
assert costs_hand[-1] < 0.5 * costs_hand[0]
assert acc["test"] >= 0.93, acc
print(f"lesson checks passed: test accuracy {acc['test']:.1%}")
