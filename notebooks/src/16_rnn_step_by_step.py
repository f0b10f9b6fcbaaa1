# %% [markdown]
# # 16. Recurrent networks step by step
#
# *Course 5, week 1: recurrent neural networks, backpropagation through time, vanishing
# gradients, GRU and LSTM.*
#
# A recurrent network reads a sequence $x^{\langle 1 \rangle}, \dots, x^{\langle T_x
# \rangle}$ one element at a time and carries a hidden state $a^{\langle t \rangle}$ from
# step to step, with the same weights at every step. We write the cell forward in the
# course's notation, unroll it, derive backpropagation through time by hand and check it
# against autograd, draw the unrolled graph one box per time step, watch the gradient
# vanish as it travels back, and finish with the gates of the LSTM and the GRU.

# %%
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display

import tinygrad_ng as tg
import tinygrad_ng.functional as F
import tinygrad_ng.nn as nn
from tinygrad_ng.viz import draw_graph

tg.set_default_dtype(np.float64)
rng = np.random.default_rng(1)

# %% [markdown]
# ## The RNN cell, in the course's notation
#
# With examples as columns ($x^{\langle t \rangle}$ of shape $(n_x, m)$, $a^{\langle t
# \rangle}$ of shape $(n_a, m)$):
#
# $$a^{\langle t \rangle} = \tanh(W_{aa} a^{\langle t-1 \rangle} + W_{ax} x^{\langle t
# \rangle} + b_a), \qquad \hat y^{\langle t \rangle} = \mathrm{softmax}(W_{ya} a^{\langle t
# \rangle} + b_y).$$
#
# First in plain NumPy, exactly as the assignment writes `rnn_cell_forward`:

# %%
n_x, n_a, n_y, m, T_x = 3, 5, 2, 10, 4


def softmax_np(z):
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def rnn_cell_forward(xt, a_prev, p):
    a_next = np.tanh(p["Waa"] @ a_prev + p["Wax"] @ xt + p["ba"])
    yt_pred = softmax_np(p["Wya"] @ a_next + p["by"])
    return a_next, yt_pred


params = {"Wax": rng.standard_normal((n_a, n_x)), "Waa": rng.standard_normal((n_a, n_a)),
          "Wya": rng.standard_normal((n_y, n_a)), "ba": rng.standard_normal((n_a, 1)),
          "by": rng.standard_normal((n_y, 1))}
x = rng.standard_normal((n_x, m, T_x))
a0 = rng.standard_normal((n_a, m))

a, a_np, y_np = a0, [], []
for t in range(T_x):
    a, y_hat = rnn_cell_forward(x[:, :, t], a, params)
    a_np.append(a)
    y_np.append(y_hat)
print("a<4>[:, 0] =", np.round(a_np[-1][:, 0], 4))

# %% [markdown]
# The library's `nn.RNNCell` computes the same thing with PyTorch's layout: examples as rows,
# `weight_ih` $= W_{ax}$, `weight_hh` $= W_{aa}$ and two biases whose sum is $b_a$. Copy the
# weights over and the hidden states agree:

# %%
cell = nn.RNNCell(n_x, n_a)
cell.weight_ih.data[...] = params["Wax"]
cell.weight_hh.data[...] = params["Waa"]
cell.bias_ih.data[...] = params["ba"][:, 0]
cell.bias_hh.data[...] = 0
h = tg.Tensor(a0.T)
for t in range(T_x):
    h = cell(x[:, :, t].T, h)
cell_gap = np.abs(h.data.T - a_np[-1]).max()
print(f"largest difference from the NumPy cell: {cell_gap:.1e}")

# %% [markdown]
# ## Backpropagation through time, by hand
#
# Take the cross-entropy of every step's prediction against labels $y^{\langle t
# \rangle}$, summed over the steps and averaged over the $m$ examples. Going backwards from
# the last step, each step receives $\partial J/\partial a^{\langle t \rangle}$ from two
# places: its own prediction and the next step (`da_next`). With $dz = (1 - (a^{\langle t
# \rangle})^2) \odot da$:
#
# $$dW_{ax} \mathrel{+}= dz\, x^{\langle t \rangle T},\quad dW_{aa} \mathrel{+}= dz\,
# a^{\langle t-1 \rangle T},\quad db_a \mathrel{+}= \textstyle\sum_i dz,\quad
# da_{\text{next}} = W_{aa}^T dz.$$
#
# The same weights get a contribution from every step: that sum is what makes it
# backpropagation *through time*.

# %%
labels = rng.integers(0, n_y, size=(m, T_x))
Y = np.eye(n_y)[labels].transpose(2, 0, 1)  # (n_y, m, T_x) one-hot


def bptt(x, a0, a_list, y_list, p):
    g = {k: np.zeros_like(v) for k, v in p.items()}
    da_next = np.zeros_like(a0)
    for t in reversed(range(T_x)):
        dzy = (y_list[t] - Y[:, :, t]) / m          # softmax + cross-entropy: ŷ − y
        g["Wya"] += dzy @ a_list[t].T
        g["by"] += dzy.sum(axis=1, keepdims=True)
        da = p["Wya"].T @ dzy + da_next
        dz = (1 - a_list[t] ** 2) * da
        a_prev = a_list[t - 1] if t > 0 else a0
        g["Wax"] += dz @ x[:, :, t].T
        g["Waa"] += dz @ a_prev.T
        g["ba"] += dz.sum(axis=1, keepdims=True)
        da_next = p["Waa"].T @ dz
    return g, da_next


grads_hand, da0_hand = bptt(x, a0, a_np, y_np, params)

# %% [markdown]
# Autograd from the same formulas written with Tensor ops. Each step runs inside
# `tg.autograd.scope(f"t={t}")`, which labels the nodes it creates; we keep each
# $a^{\langle t \rangle}$'s gradient to plot it later.

# %%
P = {k: tg.Tensor(v, requires_grad=True) for k, v in params.items()}
A0 = tg.Tensor(a0, requires_grad=True)


def rnn_forward(x, a0, P, steps):
    a, states, J = a0, [], 0
    for t in range(steps):
        with tg.autograd.scope(f"t={t + 1}"):
            a = (P["Waa"] @ a + P["Wax"] @ tg.Tensor(x[:, :, t]) + P["ba"]).tanh()
            a.name = f"a⟨{t + 1}⟩"
            z = P["Wya"] @ a + P["by"]
            J = J + F.cross_entropy(z.T, labels[:, t % T_x])
        states.append(a.retain_grad())
    return J, states


J, states = rnn_forward(x, A0, P, T_x)
J.backward(retain_graph=True)
gaps = {k: np.abs(P[k].grad - grads_hand[k]).max() for k in params}
gaps["a0"] = np.abs(A0.grad - da0_hand).max()
print({k: f"{v:.1e}" for k, v in gaps.items()})

# %% [markdown]
# ## The unrolled graph, one box per time step
#
# Drawn whole, four steps are already a wall of nodes. With `collapse_modules=True` each
# scope becomes one box, and the picture is the course's unrolled RNN: $a^{\langle t
# \rangle}$ flows from box to box, the weights feed every box.

# %%
J2, _ = rnn_forward(x, a0, P, 3)
display(draw_graph(J2, collapse_modules=True, show_values=False, show_grads=False, names=P,
                   title="an RNN unrolled over 3 steps"))

# %% [markdown]
# Open one box: `draw_graph` without `collapse_modules` draws every op inside its step's
# cluster. For long sequences `max_nodes` keeps the part nearest the output and says how
# many nodes it left out.

# %%
J1, _ = rnn_forward(x, a0, P, 1)
display(draw_graph(J1, show_values=False, names=P, title="one step, opened"))
long_J, _ = rnn_forward(np.tile(x, (1, 1, 10)), a0, P, 40)
long_picture = draw_graph(long_J, max_nodes=30, collapse_modules=True, show_values=False)
print("the 40-step graph drawn with max_nodes=30:",
      "… more nodes" if "more nodes" in long_picture.source else "complete")

# %% [markdown]
# ## Vanishing gradients
#
# Put the loss on the *last* step only and look at $\|\partial J / \partial a^{\langle t
# \rangle}\|$ for every earlier step. Each step back multiplies by $W_{aa}^T
# \mathrm{diag}(1 - a^2)$; with weights of moderate size the product shrinks
# geometrically, so early inputs barely influence the update. An LSTM's cell state
# $c^{\langle t \rangle} = \Gamma_f \odot c^{\langle t-1 \rangle} + \dots$ offers a path
# whose factor is the forget gate, close to 1 when $\Gamma_f$ is open.

# %%
T_long, hidden = 30, 16
xs = tg.Tensor(rng.standard_normal((T_long, 1, 4)))


def grad_per_step(layer):
    """‖∂J/∂a⟨t⟩‖ for J = Σ a⟨T⟩, running the layer one step at a time and keeping the
    gradient of each step's hidden state."""
    state, hs = None, []
    for t in range(T_long):
        _, state = layer(xs[t:t + 1], state)
        h = state[0] if isinstance(state, tuple) else state
        hs.append(h.retain_grad())
    hs[-1].sum().backward()
    return np.array([np.linalg.norm(h.grad) for h in hs])


tg.manual_seed(0)
rnn = nn.RNN(4, hidden)
lstm = nn.LSTM(4, hidden)
lstm.bias_ih_l0.data[hidden:2 * hidden] = 3.0  # forget gate open: Γf ≈ σ(3) ≈ 0.95
rnn_norms, lstm_norms = grad_per_step(rnn), grad_per_step(lstm)
plt.figure(figsize=(6, 3.5))
plt.semilogy(range(1, T_long + 1), rnn_norms, "o-", label="RNN (tanh)")
plt.semilogy(range(1, T_long + 1), lstm_norms, "s-", label="LSTM, forget gate open")
plt.xlabel("time step t")
plt.ylabel("‖∂J/∂a⟨t⟩‖")
plt.title("the gradient of the last step's output, sent back in time")
plt.legend()
plt.show()
print(f"RNN: step 1 gets {rnn_norms[0] / rnn_norms[-1]:.1e} of the last step's gradient; "
      f"LSTM: {lstm_norms[0] / lstm_norms[-1]:.1e}")

# %% [markdown]
# ## LSTM and GRU gates
#
# The LSTM cell (PyTorch's gate order i, f, g, o is the course's $\Gamma_u, \Gamma_f,
# \tilde c, \Gamma_o$):
#
# $$\Gamma_u = \sigma(\cdot),\ \Gamma_f = \sigma(\cdot),\ \tilde c^{\langle t \rangle} =
# \tanh(\cdot),\ \Gamma_o = \sigma(\cdot),\quad c^{\langle t \rangle} = \Gamma_f \odot
# c^{\langle t-1 \rangle} + \Gamma_u \odot \tilde c^{\langle t \rangle},\quad a^{\langle t
# \rangle} = \Gamma_o \odot \tanh c^{\langle t \rangle}.$$
#
# `nn.LSTM` runs each layer as one fast node; with `fused=False` it unrolls the cells,
# whose gates carry the course's names. Both give the same numbers.

# %%
tg.manual_seed(2)
composed = nn.LSTM(2, 3, fused=False)
fused = nn.LSTM(2, 3)
fused.load_state_dict(composed.state_dict())
seq = tg.randn(2, 1, 2)
out_c, _ = composed(seq)
out_f, _ = fused(seq)
lstm_gap = np.abs(out_c.data - out_f.data).max()
print(f"fused vs composed LSTM: {lstm_gap:.1e}")
display(draw_graph(out_c.sum(), show_values=False, names=composed,
                   title="LSTM over 2 steps: Γu, Γf, c̃, Γo in each step's box"))

# %% [markdown]
# The GRU keeps one state and two gates: the relevance gate $\Gamma_r$ and the update gate
# $\Gamma_u$, with $a^{\langle t \rangle} = \Gamma_u \odot \tilde c^{\langle t \rangle} +
# (1 - \Gamma_u) \odot a^{\langle t-1 \rangle}$ (PyTorch's $z$ is $1 - \Gamma_u$).

# %%
gru = nn.GRU(2, 3, fused=False)
out_g, _ = gru(seq[:1])
display(draw_graph(out_g.sum(), show_values=False, names=gru, title="one GRU step"))
gate_names = {n.name for n in tg.viz.walk.nearest_first(out_c.sum()) if n.name}

# %%
assert cell_gap < 1e-12
assert max(gaps.values()) < 1e-12, gaps
assert "more nodes" in long_picture.source
assert rnn_norms[0] / rnn_norms[-1] < 1e-3 < lstm_norms[0] / lstm_norms[-1]
assert lstm_gap < 1e-12
assert {"Γu⟨1⟩", "Γf⟨2⟩", "c̃⟨2⟩", "Γo⟨1⟩", "a⟨2⟩", "c⟨1⟩"} <= gate_names
print("lesson checks passed: BPTT by hand equals autograd, the RNN's gradient vanishes "
      f"({rnn_norms[0] / rnn_norms[-1]:.0e}) and the LSTM's does not "
      f"({lstm_norms[0] / lstm_norms[-1]:.0e})")
