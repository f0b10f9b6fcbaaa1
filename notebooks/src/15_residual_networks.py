# %% [markdown]
# # 15. Residual networks
#
# *Course 4, week 2: why very deep "plain" networks are hard to train, and how skip
# connections fix it.*
#
# In theory a deeper network can only do better: extra layers could learn the identity.
# In practice, a plain network's training error goes *up* beyond a few dozen layers,
# because the gradient that reaches the first layers is a product of many small factors
# and vanishes. A **residual block** adds a shortcut around two layers:
#
# $$a^{[l+2]} = g\big(z^{[l+2]} + a^{[l]}\big),$$
#
# so the block only has to learn the *residual* $z^{[l+2]}$ (zero weights give
# $a^{[l+2]} = g(a^{[l]}) = a^{[l]}$ for ReLU: the identity is the default), and the
# gradient has a path through the sum that skips the layers. In code the skip is a plain
# tensor addition: autograd sends the same gradient down both branches.

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits

import tinygrad_ng as tg
import tinygrad_ng.nn as nn
from tinygrad_ng import optim
from tinygrad_ng.data import DataLoader

# %% [markdown]
# ## Plain and residual blocks
#
# Both blocks hold two 3 × 3 convolutions with "same" padding; the residual one adds its
# input before the last ReLU. (The course's ResNet-50 also has batch normalisation after
# each convolution; we leave it out here so that the only difference is the skip.)

# %%
class Block(nn.Module):
    def __init__(self, channels, skip):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.skip = skip

    def forward(self, x):
        z = self.conv2(self.conv1(x).relu())
        return (z + x).relu() if self.skip else z.relu()   # a[l+2] = g(z[l+2] + a[l])


def make_net(skip, channels=16, blocks=10):
    """A stem (conv, ReLU, max-pool), 10 blocks = 20 conv layers, global average pooling
    and a linear layer to the 10 classes: 21 conv layers in all."""
    return nn.Sequential(
        nn.Conv2d(1, channels, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        *[Block(channels, skip) for _ in range(blocks)],
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, 10))


# the identity is easy to learn: with zero weights a residual block passes a ReLU input on
identity = Block(4, skip=True)
for p in identity.parameters():
    p.data[...] = 0
a = tg.Tensor(np.abs(np.random.default_rng(0).standard_normal((1, 4, 5, 5))).astype(np.float32))
print("zero-weight residual block = identity:", np.array_equal(identity(a).data, a.data))

# %% [markdown]
# ## The data: the digits again
#
# The same 8 × 8 digits as notebook 14, standardised, 360 kept for testing.

# %%
X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
order = np.random.default_rng(0).permutation(len(X))
X, y = X[order], y[order]
X_test, y_test, X_train, y_train = X[:360], y[:360], X[360:], y[360:]
mu, sigma = X_train.mean(), X_train.std()
X_train, X_test = (X_train - mu) / sigma, (X_test - mu) / sigma

# %% [markdown]
# ## Gradients through 21 layers
#
# One forward and backward pass on a mini-batch at initialisation (PyTorch's default,
# the same weights for both networks), and the norm $\lVert dW^{[l]} \rVert$ of each
# conv layer's weight gradient. In the plain network it shrinks by orders of magnitude
# from the last layer back to the first: the early layers hardly learn. With skips it
# stays of the same size at every depth.

# %%
loss_fn = nn.CrossEntropyLoss()
xb, yb = tg.Tensor(X_train[:64]), tg.Tensor(y_train[:64])
grad_norms = {}
for skip in (False, True):
    tg.manual_seed(0)
    net = make_net(skip)
    loss_fn(net(xb), yb).backward()
    grad_norms[skip] = np.array([np.linalg.norm(p.grad) for name, p in net.named_parameters()
                                 if p.ndim == 4])

plt.figure(figsize=(7, 3.5))
for skip, label in ((False, "plain"), (True, "residual")):
    plt.semilogy(np.arange(1, 22), grad_norms[skip] + 1e-30, "o-", label=label)
plt.xlabel("conv layer l")
plt.ylabel("‖dW[l]‖")
plt.title("gradient norm per layer at initialisation")
plt.legend()
plt.show()
print("first-layer gradient norm, plain:", f"{grad_norms[False][0]:.1e}",
      " residual:", f"{grad_norms[True][0]:.1e}")

# %% [markdown]
# ## Training both
#
# Same data, same initial weights, Adam (α = 0.001), 6 epochs. The plain network stays at
# the cost of guessing, $\log 10 \approx 2.30$ (even Adam, which rescales small
# gradients, cannot lift gradients of $10^{-11}$ far below its $\varepsilon = 10^{-8}$);
# the residual one learns.

# %%
history, test_acc = {}, {}
for skip in (False, True):
    tg.manual_seed(0)
    net = make_net(skip)
    opt = optim.Adam(net.parameters(), lr=1e-3)
    costs = []
    for epoch in range(6):
        for xb, yb in DataLoader(X_train, y_train, batch_size=64, seed=epoch):
            opt.zero_grad()
            loss = loss_fn(net(xb), yb)
            loss.backward()
            opt.step()
            costs.append(loss.item())
    history[skip] = np.array(costs)
    with tg.no_grad():
        test_acc[skip] = (net(tg.Tensor(X_test)).data.argmax(1) == y_test).mean()
    print(f"{'residual' if skip else 'plain':8s}: final cost {np.mean(costs[-10:]):.3f}, "
          f"test accuracy {test_acc[skip]:.1%}")

plt.figure(figsize=(7, 3.5))
for skip, label in ((False, "plain, 21 conv layers"), (True, "residual, 21 conv layers")):
    plt.plot(history[skip], label=label)
plt.axhline(np.log(10), color="gray", linestyle=":", label="log 10 (guessing)")
plt.xlabel("mini-batch")
plt.ylabel("cost")
plt.legend()
plt.show()

# %% [markdown]
# ## Summary
#
# * Gradients through a deep plain network are products of many factors; at 21 layers
#   they vanish before reaching the first layers, and training stalls.
# * A residual block $a^{[l+2]} = g(z^{[l+2]} + a^{[l]})$ gives the gradient a path
#   around each pair of layers and makes the identity the default, so depth stops
#   hurting. In tinygrad_ng it is one line: `(z + x).relu()`.

# %%
assert np.array_equal(identity(a).data, a.data)
assert grad_norms[True][0] > 1e3 * grad_norms[False][0]
assert grad_norms[False][0] < 1e-3 * grad_norms[False][-1]
assert np.mean(history[False][-10:]) > 2.2        # the plain net is still guessing
assert np.mean(history[True][-10:]) < 0.5 * np.mean(history[False][-10:])
assert test_acc[True] >= 0.75 > 0.2 > test_acc[False]
print(f"lesson checks passed: residual {test_acc[True]:.1%} vs plain {test_acc[False]:.1%}")
