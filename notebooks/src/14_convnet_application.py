# %% [markdown]
# # 14. A ConvNet application: recognising handwritten digits
#
# *Course 4, week 1: a complete convolutional network — CONV → RELU → POOL twice, then a
# fully connected layer and softmax — trained with Adam.*
#
# The course trains its ConvNet on 64 × 64 photos of hand signs; here we use the data set
# of 8 × 8 handwritten digits that ships with scikit-learn (1797 images, 10 classes), so
# the notebook runs in seconds with no download. The network, in PyTorch's layout
# (`(N, C, H, W)`, one grey channel):
#
# | layer | output shape |
# |---|---|
# | input | (m, 1, 8, 8) |
# | `Conv2d(1, 16, 3, padding=1)` → ReLU | (m, 16, 8, 8) |
# | `MaxPool2d(2)` | (m, 16, 4, 4) |
# | `Conv2d(16, 32, 3, padding=1)` → ReLU | (m, 32, 4, 4) |
# | `MaxPool2d(2)` | (m, 32, 2, 2) |
# | `Flatten` → `Linear(128, 10)` | (m, 10) scores; softmax in the loss |

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits

import tinygrad_ng as tg
import tinygrad_ng.nn as nn
from tinygrad_ng import optim
from tinygrad_ng.data import DataLoader

tg.manual_seed(0)

# %% [markdown]
# ## The data
#
# Pixels are 0…16; we scale them, standardise with the training set's mean and standard
# deviation (course 2), and keep 360 images aside as the test set.

# %%
X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
order = np.random.default_rng(0).permutation(len(X))
X, y = X[order], y[order]
X_test, y_test, X_train, y_train = X[:360], y[:360], X[360:], y[360:]
mu, sigma = X_train.mean(), X_train.std()
X_train, X_test = (X_train - mu) / sigma, (X_test - mu) / sigma
print("train:", X_train.shape, " test:", X_test.shape)

fig, axes = plt.subplots(1, 10, figsize=(12, 1.6))
for ax, img, label in zip(axes, X_train, y_train):
    ax.imshow(img[0], cmap="gray_r")
    ax.set_title(str(label))
    ax.axis("off")
plt.show()

# %% [markdown]
# ## The model and its parameters
#
# Each `Conv2d` holds `weight` of shape $(n_C, n_{C_{prev}}, f, f)$ and `bias` of shape
# $(n_C,)$, initialised as PyTorch does (uniform in $\pm 1/\sqrt{n_{C_{prev}} f^2}$).
# The pooling layers have no parameters.

# %%
model = nn.Sequential(
    nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(32 * 2 * 2, 10))
print(model)
for name, p in model.named_parameters():
    print(f"{name:10s} {p.shape}")

# %% [markdown]
# ## Training
#
# Mini-batches of 64, Adam with $\alpha = 0.003$, softmax cross-entropy, 15 epochs.

# %%
loss_fn = nn.CrossEntropyLoss()
opt = optim.Adam(model.parameters(), lr=3e-3)
costs, train_acc = [], []
for epoch in range(15):
    model.train()
    epoch_costs = []
    for xb, yb in DataLoader(X_train, y_train, batch_size=64, seed=epoch):
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        epoch_costs.append(loss.item())
    costs.append(np.mean(epoch_costs))
    model.eval()
    with tg.no_grad():
        train_acc.append((model(tg.Tensor(X_train)).data.argmax(1) == y_train).mean())
    if epoch % 3 == 0 or epoch == 14:
        print(f"epoch {epoch:2d}: cost {costs[-1]:.4f}, train accuracy {train_acc[-1]:.1%}")

with tg.no_grad():
    scores = model(tg.Tensor(X_test)).data
test_acc = (scores.argmax(1) == y_test).mean()
print(f"test accuracy: {test_acc:.1%}")

fig, axes = plt.subplots(1, 2, figsize=(10, 3))
axes[0].plot(costs)
axes[0].set(xlabel="epoch", ylabel="cost", title="training cost")
axes[1].plot(train_acc)
axes[1].set(xlabel="epoch", ylabel="accuracy", title="training accuracy")
plt.show()

# %% [markdown]
# ## What the network learned
#
# The first layer's 16 filters are 3 × 3 patterns over the grey image; many look like
# small edge and stroke detectors (compare the vertical-edge filter of notebook 13).

# %%
filters = model[0].weight.data[:, 0]
fig, axes = plt.subplots(2, 8, figsize=(10, 2.8))
for ax, f in zip(axes.ravel(), filters):
    ax.imshow(f, cmap="RdBu", vmin=-np.abs(filters).max(), vmax=np.abs(filters).max())
    ax.axis("off")
plt.suptitle("first-layer filters (red > 0 > blue)")
plt.show()

# %% [markdown]
# The **feature maps** are the activations of one image after each layer: the first
# layer responds to strokes at particular orientations; after pooling and the second
# convolution the maps are coarser and more abstract.

# %%
digit = tg.Tensor(X_test[:1])
with tg.no_grad():
    maps1 = model[:2](digit).data[0]        # after conv 1 + ReLU: (16, 8, 8)
    maps2 = model[:5](digit).data[0]        # after conv 2 + ReLU: (32, 4, 4)
fig, axes = plt.subplots(3, 8, figsize=(10, 4))
axes[0, 0].imshow(X_test[0, 0], cmap="gray_r")
axes[0, 0].set_title(f"digit {y_test[0]}")
for k, ax in enumerate(axes[0, 1:]):
    ax.imshow(maps1[k], cmap="viridis")
for k, ax in enumerate(axes[1:].ravel()):
    ax.imshow(maps2[k], cmap="viridis")
for ax in axes.ravel():
    ax.axis("off")
plt.suptitle("an image, then feature maps after the first (row 1) and second (rows 2-3) conv")
plt.show()

# %% [markdown]
# ## Mistakes
#
# The few test digits the network gets wrong, with its guess:

# %%
wrong = np.flatnonzero(scores.argmax(1) != y_test)
fig, axes = plt.subplots(1, max(len(wrong), 1), figsize=(1.4 * max(len(wrong), 1), 1.8),
                         squeeze=False)
for ax, i in zip(axes[0], wrong):
    ax.imshow(X_test[i, 0], cmap="gray_r")
    ax.set_title(f"{scores[i].argmax()} (is {y_test[i]})", fontsize=9)
for ax in axes[0]:
    ax.axis("off")
plt.show()

# %% [markdown]
# ## Summary
#
# * A ConvNet stacks CONV → RELU → POOL blocks, which shrink the image while adding
#   channels, and ends with fully connected layers.
# * Its parameters are the filters and biases: here
#   16·(1·3·3) + 16 + 32·(16·3·3) + 32 + 128·10 + 10 = 6,090 numbers.
# * It reaches about 99 % test accuracy on the digits in a few seconds of training.

# %%
n_params = sum(p.size for p in model.parameters())
assert n_params == 16 * 9 + 16 + 32 * 16 * 9 + 32 + 128 * 10 + 10 == 6090
assert costs[-1] < 0.1 * costs[0]
assert test_acc >= 0.98, test_acc
assert maps1.shape == (16, 8, 8) and maps2.shape == (32, 4, 4)
print(f"lesson checks passed: test accuracy {test_acc:.1%}")
