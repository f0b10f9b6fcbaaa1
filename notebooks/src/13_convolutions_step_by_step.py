# %% [markdown]
# # 13. Convolutions step by step
#
# *Course 4, week 1: padding, strided convolutions, convolutions over volumes, pooling,
# and the backward pass of a conv layer.*
#
# We write the course's building blocks by hand in NumPy (zero padding, one convolution
# step, the forward pass with its four loops, pooling, the backward pass) and check each
# one against `tinygrad_ng.functional`, whose `F.conv2d`, `F.max_pool2d` and
# `F.avg_pool2d` compute the same thing as one graph node with a fast backward.
#
# **Notation.** The course stores a batch as $(m, n_H, n_W, n_C)$ — examples, rows,
# columns, channels — and a layer's filters as $W$ of shape $(f, f, n_{C_{prev}}, n_C)$.
# tinygrad_ng follows PyTorch's **NCHW** layout: a batch is `(N, C, H, W)` and
# `weight` is `(C_out, C_in, kH, kW)`. The conversions are two transposes:
#
# | course | tinygrad_ng / PyTorch |
# |---|---|
# | `A_prev` $(m, n_H, n_W, n_C)$ | `x = A_prev.transpose(0, 3, 1, 2)` $(N, C, H, W)$ |
# | `W` $(f, f, n_{C_{prev}}, n_C)$ | `weight = W.transpose(3, 2, 0, 1)` $(C_{out}, C_{in}, f, f)$ |
# | `b` $(1, 1, 1, n_C)$ | `bias = b.reshape(-1)` $(C_{out},)$ |
# | `hparameters["pad"]`, `["stride"]` | `padding=p`, `stride=s` |

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_sample_image

import tinygrad_ng as tg
import tinygrad_ng.functional as F
from tinygrad_ng.viz import draw_graph

rng = np.random.default_rng(1)


def to_nchw(A):
    """(m, n_H, n_W, n_C) → (N, C, H, W)."""
    return A.transpose(0, 3, 1, 2)


def to_nhwc(x):
    """(N, C, H, W) → (m, n_H, n_W, n_C)."""
    return x.transpose(0, 2, 3, 1)


# %% [markdown]
# ## Zero padding
#
# Padding adds $p$ rows and columns of zeros around each image, so that a filter can be
# centred on the border pixels and the output need not shrink. `F.pad` takes the widths
# from the last axis backwards, `(left, right, top, bottom)`, as PyTorch does.

# %%
def zero_pad(X, pad):
    return np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)))


x = rng.standard_normal((4, 3, 3, 2))
x_pad = zero_pad(x, 3)
x_pad_lib = to_nhwc(F.pad(to_nchw(x), (3, 3, 3, 3)).data)
print("x.shape =", x.shape, " x_pad.shape =", x_pad.shape)
print("F.pad agrees:", np.array_equal(x_pad, x_pad_lib))

fig, axes = plt.subplots(1, 2, figsize=(6, 3))
for ax, img, title in zip(axes, (x[0, :, :, 0], x_pad[0, :, :, 0]), ("x", "x_pad")):
    ax.imshow(img)
    ax.set_title(title)
plt.show()

# %% [markdown]
# ## One step of a convolution, then the whole forward pass
#
# One step multiplies an $f \times f \times n_{C_{prev}}$ slice of the input elementwise
# by a filter, sums, and adds the bias: $Z = \sum (a_{slice} \odot W) + b$. Sliding the
# filter with stride $s$ over the padded input gives an output of
#
# $$n_H = \left\lfloor \frac{n_{H_{prev}} + 2p - f}{s} \right\rfloor + 1, \qquad
#   n_W = \left\lfloor \frac{n_{W_{prev}} + 2p - f}{s} \right\rfloor + 1,$$
#
# and one output channel per filter. (Like every deep-learning library, this
# "convolution" does not flip the filter: mathematicians call it a cross-correlation.)

# %%
def conv_single_step(a_slice_prev, W, b):
    return np.sum(a_slice_prev * W) + b.item()


def conv_forward(A_prev, W, b, hparameters):
    """The course's four loops: examples, rows, columns, filters."""
    m, n_H_prev, n_W_prev, _ = A_prev.shape
    f, _, _, n_C = W.shape
    stride, pad = hparameters["stride"], hparameters["pad"]
    n_H = (n_H_prev + 2 * pad - f) // stride + 1
    n_W = (n_W_prev + 2 * pad - f) // stride + 1
    Z = np.zeros((m, n_H, n_W, n_C))
    A_prev_pad = zero_pad(A_prev, pad)
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    vs, hs = h * stride, w * stride
                    a_slice = A_prev_pad[i, vs:vs + f, hs:hs + f, :]
                    Z[i, h, w, c] = conv_single_step(a_slice, W[:, :, :, c], b[:, :, :, c])
    return Z, (A_prev, W, b, hparameters)


A_prev = rng.standard_normal((2, 5, 7, 4))
W = rng.standard_normal((3, 3, 4, 8))
b = rng.standard_normal((1, 1, 1, 8))
hparameters = {"pad": 1, "stride": 2}
Z, cache_conv = conv_forward(A_prev, W, b, hparameters)
Z_lib = F.conv2d(to_nchw(A_prev), W.transpose(3, 2, 0, 1), b.reshape(-1), stride=2, padding=1)
print("Z.shape =", Z.shape, " F.conv2d:", to_nhwc(Z_lib.data).shape)
print("max |Z - F.conv2d| =", np.abs(Z - to_nhwc(Z_lib.data)).max())

# %% [markdown]
# The output-size formula, checked on many random shapes (including a filter as large as
# the padded input, a stride larger than the filter and 1 × 1 filters):

# %%
checked = 0
with tg.no_grad():
    for _ in range(200):
        f, s, p = rng.integers(1, 6), rng.integers(1, 5), rng.integers(0, 3)
        n = f - 2 * p + rng.integers(max(0, 2 * p - f + 1), 9)
        out = F.conv2d(np.zeros((1, 1, n, n + 1)), np.zeros((1, 1, f, f)), stride=s, padding=p)
        assert out.shape[2:] == ((n + 2 * p - f) // s + 1, (n + 1 + 2 * p - f) // s + 1)
        checked += 1
print(f"output size = floor((n + 2p - f)/s) + 1 on {checked} random shapes")

# %% [markdown]
# ## Edge detection on a photograph
#
# The course's vertical-edge detector is the 3 × 3 filter
# $\begin{bmatrix} 1 & 0 & -1 \\ 1 & 0 & -1 \\ 1 & 0 & -1 \end{bmatrix}$: bright on the
# left and dark on the right gives a large positive response, the reverse a large
# negative one, and a flat region 0. Applied to one of the photographs that ship with
# scikit-learn (in grey levels):

# %%
photo = load_sample_image("china.jpg").mean(axis=2) / 255.0  # (427, 640) grey levels
vertical = np.array([[1.0, 0.0, -1.0]] * 3)
edges = F.conv2d(photo[None, None], vertical[None, None]).data[0, 0]
horizontal_edges = F.conv2d(photo[None, None], vertical.T[None, None]).data[0, 0]

fig, axes = plt.subplots(1, 3, figsize=(13, 3.4))
axes[0].imshow(photo, cmap="gray")
axes[0].set_title("input (427 × 640)")
axes[1].imshow(edges, cmap="RdBu", vmin=-1, vmax=1)
axes[1].set_title("vertical-edge filter")
axes[2].imshow(horizontal_edges, cmap="RdBu", vmin=-1, vmax=1)
axes[2].set_title("its transpose: horizontal edges")
for ax in axes:
    ax.axis("off")
plt.show()
print("output shape:", edges.shape, "= (427 - 3 + 1, 640 - 3 + 1)")

# %% [markdown]
# On a synthetic image, bright left half and dark right half, the filter lights up exactly
# the columns where the brightness changes:

# %%
step_image = np.zeros((6, 6))
step_image[:, :3] = 10.0
step_edges = F.conv2d(step_image[None, None], vertical[None, None]).data[0, 0]
print(step_edges)

# %% [markdown]
# ## Pooling
#
# Pooling has hyperparameters $f$ and $s$ but nothing to learn: max pooling keeps the
# largest value of each $f \times f$ window (of each channel separately), average
# pooling the mean. With $f = s$ the windows sit side by side.

# %%
def pool_forward(A_prev, hparameters, mode="max"):
    m, n_H_prev, n_W_prev, n_C = A_prev.shape
    f, stride = hparameters["f"], hparameters["stride"]
    n_H, n_W = (n_H_prev - f) // stride + 1, (n_W_prev - f) // stride + 1
    A = np.zeros((m, n_H, n_W, n_C))
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    vs, hs = h * stride, w * stride
                    window = A_prev[i, vs:vs + f, hs:hs + f, c]
                    A[i, h, w, c] = window.max() if mode == "max" else window.mean()
    return A


A_prev_pool = rng.standard_normal((2, 5, 5, 3))
hp_pool = {"f": 3, "stride": 2}
A_max = pool_forward(A_prev_pool, hp_pool, "max")
A_avg = pool_forward(A_prev_pool, hp_pool, "average")
lib_max = to_nhwc(F.max_pool2d(to_nchw(A_prev_pool), 3, stride=2).data)
lib_avg = to_nhwc(F.avg_pool2d(to_nchw(A_prev_pool), 3, stride=2).data)
print("max pooling agrees:", np.allclose(A_max, lib_max))
print("average pooling agrees:", np.allclose(A_avg, lib_avg))

# %% [markdown]
# ## The backward pass of a conv layer
#
# Given $dZ = \partial J / \partial Z$, each output pixel sends its gradient back through
# the window it was computed from:
#
# $$dA \mathrel{+}= \sum_{h} \sum_{w} W_c \cdot dZ_{hw}, \qquad
#   dW_c \mathrel{+}= \sum_{h} \sum_{w} a_{slice} \cdot dZ_{hw}, \qquad
#   db_c = \sum_{h} \sum_{w} dZ_{hw}.$$
#
# tinygrad_ng computes the same sums without loops over pixels: $dA$ is a *transposed
# convolution* of $dZ$ with $W$, and $dW$ a correlation of the input with $dZ$ — both
# convolutions themselves, so they can be differentiated again.

# %%
def conv_backward(dZ, cache):
    A_prev, W, b, hparameters = cache
    m = A_prev.shape[0]
    f, _, _, n_C = W.shape
    stride, pad = hparameters["stride"], hparameters["pad"]
    _, n_H, n_W, _ = dZ.shape
    A_prev_pad = zero_pad(A_prev, pad)
    dA_prev_pad, dW, db = np.zeros_like(A_prev_pad), np.zeros_like(W), np.zeros_like(b)
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    vs, hs = h * stride, w * stride
                    a_slice = A_prev_pad[i, vs:vs + f, hs:hs + f, :]
                    dA_prev_pad[i, vs:vs + f, hs:hs + f, :] += W[:, :, :, c] * dZ[i, h, w, c]
                    dW[:, :, :, c] += a_slice * dZ[i, h, w, c]
                    db[:, :, :, c] += dZ[i, h, w, c]
    dA_prev = dA_prev_pad[:, pad:A_prev_pad.shape[1] - pad, pad:A_prev_pad.shape[2] - pad, :]
    return dA_prev, dW, db


dZ = rng.standard_normal(Z.shape)
dA_hand, dW_hand, db_hand = conv_backward(dZ, cache_conv)

x_t = tg.Tensor(to_nchw(A_prev), requires_grad=True)
w_t = tg.Tensor(W.transpose(3, 2, 0, 1), requires_grad=True)
b_t = tg.Tensor(b.reshape(-1), requires_grad=True)
Z_t = F.conv2d(x_t, w_t, b_t, stride=2, padding=1)
Z_t.backward(to_nchw(dZ))
errors = {"dA_prev": np.abs(to_nhwc(x_t.grad) - dA_hand).max(),
          "dW": np.abs(w_t.grad.transpose(2, 3, 1, 0) - dW_hand).max(),
          "db": np.abs(b_t.grad - db_hand.reshape(-1)).max()}
print({k: f"{v:.1e}" for k, v in errors.items()})

# %% [markdown]
# The gradient check of course 2 confirms it once more, in float64 against centred
# finite differences:

# %%
tg.set_default_dtype(np.float64)
ok = tg.gradcheck(lambda a, w: F.conv2d(a, w, stride=2, padding=1),
                  [tg.Tensor(to_nchw(A_prev), requires_grad=True),
                   tg.Tensor(W.transpose(3, 2, 0, 1), requires_grad=True)])
tg.set_default_dtype(np.float32)
print("gradcheck:", ok)

# %% [markdown]
# ## A small conv graph, drawn
#
# A 1-channel 4 × 4 image, one 2 × 2 filter, ReLU, 2 × 2 max pooling and a sum: each node
# shows its value and its gradient after `backward()`, and each edge the local derivative
# (the conv's edges: a transposed convolution with $W$ and a correlation with the input).
# Max pooling sends the gradient only to the largest value of each window.

# %%
image = tg.Tensor(np.arange(16.0).reshape(1, 1, 4, 4) % 5, requires_grad=True, name="image")
kernel = tg.Tensor([[[[1.0, -1.0], [0.5, 0.0]]]], requires_grad=True, name="W")
bias = tg.Tensor([0.5], requires_grad=True, name="b")
J_small = F.max_pool2d(F.conv2d(image, kernel, bias, padding=1).relu(), 2).sum()
J_small.backward()
draw_graph(J_small, title="J = Σ maxpool(relu(conv(image, W) + b))")

# %% [markdown]
# ## Summary
#
# * A convolution slides $f \times f \times n_{C_{prev}}$ filters with stride $s$ over a
#   $p$-padded input: the output has $\lfloor (n + 2p - f)/s \rfloor + 1$ rows and columns
#   and one channel per filter.
# * Pooling summarises windows by their max or mean and has no parameters.
# * Its backward pass sends each output gradient back through its window; `F.conv2d`
#   does the loops of `conv_forward` and `conv_backward` as matrix products.

# %%
assert x_pad.shape == (4, 9, 9, 2) and np.array_equal(x_pad, x_pad_lib)
assert np.allclose(Z, to_nhwc(Z_lib.data), atol=1e-5)
assert checked == 200
assert np.all(step_edges[:, 1:3] == 30) and np.all(step_edges[:, [0, 3]] == 0)
assert edges.shape == (425, 638) and np.abs(edges).max() > 1
assert np.allclose(A_max, lib_max, atol=1e-6) and np.allclose(A_avg, lib_avg, atol=1e-6)
assert max(errors.values()) < 1e-4, errors
assert ok
assert image.grad.sum() > 0 and np.count_nonzero(kernel.grad) > 0
print("lesson checks passed: conv forward, backward and pooling agree with the loops")
