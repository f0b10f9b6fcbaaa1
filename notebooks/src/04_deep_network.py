# %% [markdown]
# # 4. A deep L-layer network, by hand and with autograd
#
# *Course 1, week 4: deep neural networks, forward and backward building blocks.*
#
# A deep network repeats one block $L$ times. Each block has a forward function that
# computes its output and stores a **cache** of what the backward pass will need, and a
# backward function that turns the gradient of its output into the gradients of its
# parameters and of its input. We write these blocks in NumPy in the course's own
# layout (examples as columns), then build the same network with `tinygrad_ng` and check
# that autograd produces the very same gradients.

# %%
import matplotlib.pyplot as plt
import numpy as np

import tinygrad_ng as tg
import tinygrad_ng.nn as nn
from tinygrad_ng import optim
from tinygrad_ng.data import make_moons, train_dev_test_split
from tinygrad_ng.viz import draw_graph, plot_decision_boundary, plot_history

tg.set_default_dtype(np.float64)  # exact comparisons: float64 everywhere in this notebook
tg.manual_seed(0)

# %% [markdown]
# ## Notation and shapes
#
# Layer $l = 1, \dots, L$ has $n^{[l]}$ units; $n^{[0]} = n_x$ is the number of input
# features. With the $m$ examples as columns of $A^{[0]} = X$:
#
# $$Z^{[l]} = W^{[l]} A^{[l-1]} + b^{[l]}, \qquad A^{[l]} = g^{[l]}\big(Z^{[l]}\big),$$
#
# with $g = \text{ReLU}$ for the hidden layers and $g = \sigma$ for the output layer, so
# $A^{[L]} = \hat{Y}$. The shapes are worth memorising, they catch most bugs:
#
# | | shape |
# |---|---|
# | $W^{[l]}$, $dW^{[l]}$ | $(n^{[l]}, n^{[l-1]})$ |
# | $b^{[l]}$, $db^{[l]}$ | $(n^{[l]}, 1)$ |
# | $Z^{[l]}$, $A^{[l]}$, $dZ^{[l]}$, $dA^{[l]}$ | $(n^{[l]}, m)$ |
#
# We use the course's 4-layer architecture $[n_x, 20, 7, 5, 1]$.

# %%
layer_dims = [2, 20, 7, 5, 1]
L = len(layer_dims) - 1


def initialize_parameters_deep(layer_dims, seed):
    """W[l] ~ N(0, 1/n[l-1]) (the course's scaling for deep nets), b[l] = 0."""
    rng = np.random.default_rng(seed)
    params = {}
    for l in range(1, len(layer_dims)):
        params[f"W{l}"] = rng.standard_normal((layer_dims[l], layer_dims[l - 1])) \
            / np.sqrt(layer_dims[l - 1])
        params[f"b{l}"] = np.zeros((layer_dims[l], 1))
    return params


params = initialize_parameters_deep(layer_dims, seed=1)
for k, v in params.items():
    print(k, v.shape)

# %% [markdown]
# ## Forward blocks
#
# `linear_forward` computes $Z = WA_{prev} + b$ and caches $(A_{prev}, W, b)$;
# `linear_activation_forward` adds the activation and also caches $Z$;
# `L_model_forward` chains $L-1$ LINEAR → RELU blocks and one LINEAR → SIGMOID block.

# %%
def sigmoid(Z):
    return 1 / (1 + np.exp(-Z))


def linear_forward(A_prev, W, b):
    return W @ A_prev + b, (A_prev, W, b)


def linear_activation_forward(A_prev, W, b, activation):
    Z, linear_cache = linear_forward(A_prev, W, b)
    A = sigmoid(Z) if activation == "sigmoid" else np.maximum(0, Z)
    return A, (linear_cache, Z)


def L_model_forward(X, params):
    caches, A = [], X
    for l in range(1, L + 1):
        activation = "sigmoid" if l == L else "relu"
        A, cache = linear_activation_forward(A, params[f"W{l}"], params[f"b{l}"], activation)
        caches.append(cache)
    return A, caches


def compute_cost(AL, Y):
    return float(-np.mean(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)))


# %% [markdown]
# ## Backward blocks
#
# Given $dZ^{[l]}$, the linear part gives the three other gradients (its cache supplies
# $A^{[l-1]}$ and $W^{[l]}$):
#
# $$dW^{[l]} = \frac{1}{m} dZ^{[l]} A^{[l-1]T}, \qquad
#   db^{[l]} = \frac{1}{m} \sum_{i=1}^{m} dZ^{[l](i)}, \qquad
#   dA^{[l-1]} = W^{[l]T} dZ^{[l]}.$$
#
# The activation part turns $dA^{[l]}$ into $dZ^{[l]} = dA^{[l]} \ast g'(Z^{[l]})$, with
# $\text{ReLU}'(z) = [z > 0]$ and $\sigma'(z) = \sigma(z)(1 - \sigma(z))$. The backward
# pass starts from the derivative of the cross-entropy with respect to the prediction,
#
# $$dA^{[L]} = -\left(\frac{Y}{A^{[L]}} - \frac{1 - Y}{1 - A^{[L]}}\right),$$
#
# and runs the blocks in reverse order, reading each one's cache.

# %%
def linear_backward(dZ, linear_cache):
    A_prev, W, _ = linear_cache
    m = A_prev.shape[1]
    dW = dZ @ A_prev.T / m
    db = dZ.sum(axis=1, keepdims=True) / m
    return W.T @ dZ, dW, db


def linear_activation_backward(dA, cache, activation):
    linear_cache, Z = cache
    if activation == "sigmoid":
        s = sigmoid(Z)
        dZ = dA * s * (1 - s)
    else:
        dZ = dA * (Z > 0)
    return linear_backward(dZ, linear_cache)


def L_model_backward(AL, Y, caches):
    grads = {}
    dA = -(Y / AL - (1 - Y) / (1 - AL))
    for l in range(L, 0, -1):
        activation = "sigmoid" if l == L else "relu"
        dA, grads[f"dW{l}"], grads[f"db{l}"] = linear_activation_backward(
            dA, caches[l - 1], activation)
    return grads


# %% [markdown]
# ## Data
#
# Two interleaving half-moons, split into a training and a test set. The course's
# column layout is the transpose of the batch-first arrays: `X.T`.

# %%
X_all, y_all = make_moons(400, noise=0.2, seed=0)
(X_tr, y_tr), _, (X_te, y_te) = train_dev_test_split(X_all, y_all, fractions=(0.75, 0, 0.25),
                                                     seed=0)
X_course, Y_course = X_tr.T, y_tr.reshape(1, -1).astype(np.float64)
print("course layout: X", X_course.shape, "Y", Y_course.shape)

AL, caches = L_model_forward(X_course, params)
grads_hand = L_model_backward(AL, Y_course, caches)
print(f"initial cost {compute_cost(AL, Y_course):.6f}")

# %% [markdown]
# ## The same network with tinygrad_ng
#
# `nn.Linear(n[l-1], n[l])` holds $W^{[l]}$ as `.weight` with exactly the course's shape
# $(n^{[l]}, n^{[l-1]})$ and $b^{[l]}$ as `.bias` of shape $(n^{[l]},)$. The forward
# function reads like `L_model_forward`; there is no backward function to write.
# The inputs are batch-first, $(m, n_x)$.

# %%
class DeepNetwork(nn.Module):
    def __init__(self, layer_dims):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(n_in, n_out)
                                    for n_in, n_out in zip(layer_dims[:-1], layer_dims[1:]))

    def forward(self, X):
        A = X
        for layer in self.layers[:-1]:
            A = layer(A).relu()                    # LINEAR -> RELU, L-1 times
        return self.layers[-1](A).sigmoid()        # LINEAR -> SIGMOID


model = DeepNetwork(layer_dims)
model.load_state_dict({f"layers.{l - 1}.{kind}": params[f"{p}{l}"].reshape(shape)
                       for l in range(1, L + 1)
                       for kind, p, shape in (("weight", "W", (layer_dims[l], -1)),
                                              ("bias", "b", (-1,)))})
print(model)

# %% [markdown]
# Where are the caches? Every operation that autograd records keeps the arrays its
# backward will need (a ReLU keeps its output, a linear layer its input and weight):
# the graph **is** the list of caches. Here it is, with one frame per layer. Naming the
# tensors puts $W^{[l]}$ and $b^{[l]}$ on the drawing; each edge shows the local
# derivative that the backward block uses ($\partial Z/\partial W = A_{prev}$,
# $\partial A/\partial Z = [Z > 0]$, …).

# %%
for l, layer in enumerate(model.layers, start=1):
    layer.weight.name, layer.bias.name = f"W[{l}]", f"b[{l}]"
Xt = tg.Tensor(X_tr, name="X")
Yt = tg.Tensor(y_tr.reshape(-1, 1).astype(np.float64), name="Y")
cost = nn.BCELoss()(model(Xt), Yt)
cost.backward(retain_graph=True)
draw_graph(cost, show_values=False, title="the 4-layer network's computation graph")

# %% [markdown]
# ## Same gradients?
#
# Compare $dW^{[l]}$ and $db^{[l]}$ from the hand-written blocks with the `.grad` that
# autograd left on each parameter, using the course's relative difference
# $\frac{\lVert a - b \rVert_2}{\lVert a \rVert_2 + \lVert b \rVert_2}$.

# %%
def relative_difference(a, b):
    return np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b))


print(f"cost: hand {compute_cost(AL, Y_course):.12f}, autograd {cost.item():.12f}")
worst = 0.0
for l, layer in enumerate(model.layers, start=1):
    d_w = relative_difference(grads_hand[f"dW{l}"], layer.weight.grad)
    d_b = relative_difference(grads_hand[f"db{l}"].ravel(), layer.bias.grad)
    worst = max(worst, d_w, d_b)
    print(f"layer {l}: dW{l} {str(layer.weight.grad.shape):8} rel. diff {d_w:.1e}   "
          f"db{l} rel. diff {d_b:.1e}")

# %% [markdown]
# ## Training both, side by side
#
# Gradient descent $W^{[l]} := W^{[l]} - \alpha\, dW^{[l]}$, $b^{[l]} := b^{[l]} - \alpha\,
# db^{[l]}$ with the hand-written gradients, and `optim.SGD` with autograd's. Started
# from the same parameters they should trace the same cost curve.

# %%
iterations, lr = 300, 0.3
start = model.state_dict()  # (the initial parameters, for a second run further down)
costs_hand, costs_auto = [], []
opt = optim.SGD(model.parameters(), lr=lr)
for _ in range(iterations):
    AL, caches = L_model_forward(X_course, params)
    grads = L_model_backward(AL, Y_course, caches)
    for l in range(1, L + 1):
        params[f"W{l}"] -= lr * grads[f"dW{l}"]
        params[f"b{l}"] -= lr * grads[f"db{l}"]
    costs_hand.append(compute_cost(AL, Y_course))

    opt.zero_grad()
    cost = nn.BCELoss()(model(Xt), Yt)
    cost.backward()
    opt.step()
    costs_auto.append(cost.item())


def accuracy(X, y):
    with tg.no_grad():
        return float(((model(tg.Tensor(X)).data[:, 0] > 0.5) == y).mean())


acc_train, acc_test = accuracy(X_tr, y_tr), accuracy(X_te, y_te)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
plot_history({"hand-written blocks": costs_hand, "autograd": costs_auto}, ax=ax1,
             title="the two cost curves coincide")
plot_decision_boundary(model, X_te, y_te, output="probabilities", ax=ax2,
                       title=f"test set: {acc_test:.0%} (train {acc_train:.0%})")
plt.show()
print(f"largest cost difference over {iterations} steps: "
      f"{np.abs(np.subtract(costs_hand, costs_auto)).max():.1e}")

# %% [markdown]
# ## The whole step, recorded once: the Wengert list
#
# Every iteration above builds the same graph again: the same operations on arrays of the
# same shapes, only the numbers change. `tg.jit(step)` runs the step eagerly once while it
# records every array operation of the forward pass, the backward pass and the update, in
# order: a **Wengert list**, the "tape" of reverse-mode differentiation. Later calls replay
# the list as plain NumPy, writing into arrays allocated once, with no graph to build.
# Printed, it is `L_model_forward`, `L_model_backward` and `update_parameters` written out
# one line per operation, with autograd's names: batch-first, so $Z = A_{prev} W^T + b$ and
# $dW = dZ^T A_{prev}$; $\partial J/\partial A^{[4]}$ comes from the cost node, then
# $dZ^{[4]} = dA^{[4]} \cdot A^{[4]}(1 - A^{[4]})$ (the product is the course's
# $A^{[L]} - Y$, over $m$).

# %%
model_jit = DeepNetwork(layer_dims)
model_jit.load_state_dict(start)
opt_jit = optim.SGD(model_jit.parameters(), lr=lr)
loss_fn = nn.BCELoss()


@tg.jit
def train_step(X, Y):
    opt_jit.zero_grad()
    cost = loss_fn(model_jit(X), Y)
    cost.backward()
    opt_jit.step()
    return cost


costs_jit = [train_step(Xt, Yt).item() for _ in range(iterations)]
train_step.tape()

# %% [markdown]
# The replayed steps compute the same numbers as the eager ones, bit for bit: the cost
# curve is the autograd curve above, and the parameters end up identical.

# %%
same_params = all(np.array_equal(a, b) for a, b in zip(model_jit.state_dict().values(),
                                                        model.state_dict().values()))
print(f"recordings: {train_step.recordings}; costs identical: {costs_jit == costs_auto}; "
      f"parameters identical: {same_params}")

# %% [markdown]
# ## Summary
#
# * A deep network is a loop over identical blocks; each forward block caches what its
#   backward block needs.
# * The backward pass of every block is the same three formulas for $dW$, $db$ and
#   $dA_{prev}$, plus the activation's derivative.
# * Autograd computes exactly these gradients (relative difference at rounding level),
#   and training with either traces the same curve.
# * The graph of a training step is the same at every iteration: recorded once by
#   `tg.jit`, it is a flat list of array operations (the Wengert list) that replays
#   the same numbers without building a graph.

# %%
assert worst < 1e-10, worst
assert np.allclose(costs_hand, costs_auto, rtol=1e-9)
assert costs_auto[-1] < 0.25 * costs_auto[0]
assert acc_test >= 0.9, acc_test
assert costs_jit == costs_auto and same_params and train_step.recordings == 1
assert "dW1 = dZ1ᵀ @ X" in str(train_step.tape())
print(f"lesson checks passed: gradients agree to {worst:.0e}, test accuracy {acc_test:.0%}")
