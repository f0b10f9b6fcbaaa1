# %% [markdown]
# # 18. Attention: where to look in the input
#
# *Course 5, weeks 3–4: sequence-to-sequence models, the attention model, and the
# transformer's scaled dot-product attention.*
#
# An encoder–decoder squeezes the whole input into the encoder's final state, and the
# decoder must unpack the output from that one vector. It works for short inputs and
# degrades with length: the course's motivation for attention. With attention, each output
# step computes weights $\alpha^{\langle t, t' \rangle}$ over *every* encoder step and reads
# a weighted sum of them, the context $c^{\langle t \rangle} = \sum_{t'} \alpha^{\langle t, t'
# \rangle} a^{\langle t' \rangle}$.
#
# The task: reverse a sequence of digits (`3 1 4 1 5 9 …` → `… 9 5 1 4 1 3`). Output step
# $t$ needs input step $T - 1 - t$ exactly, which attention can look up directly. We
# train the same encoder–decoder with and without attention and compare.

# %%
import matplotlib.pyplot as plt
import numpy as np

import tinygrad_ng as tg
import tinygrad_ng.functional as F
import tinygrad_ng.nn as nn
from tinygrad_ng import optim

tg.manual_seed(0)
rng = np.random.default_rng(0)

# %% [markdown]
# ## Scaled dot-product attention
#
# For queries $Q$, keys $K$ and values $V$ (one row per position),
#
# $$\mathrm{Attention}(Q, K, V) = \mathrm{softmax}\!\left(\frac{Q K^T}{\sqrt{d_k}}\right) V .$$
#
# Each query's row of weights sums to 1; a mask sets some weights to zero (a decoder's
# causal mask: position $i$ sees positions $0 \dots i$ only). By hand against the library:

# %%
Q, K, V = (rng.standard_normal((4, 8)) for _ in range(3))
scores = Q @ K.T / np.sqrt(8)
scores[np.triu_indices(4, 1)] = -np.inf
weights = np.exp(scores - scores.max(axis=1, keepdims=True))
weights /= weights.sum(axis=1, keepdims=True)
by_hand = weights @ V
ours = F.scaled_dot_product_attention(tg.Tensor(Q), tg.Tensor(K), tg.Tensor(V), is_causal=True)
sdpa_gap = np.abs(ours.data - by_hand).max()
print(f"causal attention: largest difference from the NumPy formula {sdpa_gap:.1e}")
print("weights (causal):\n", np.round(weights, 2))

# %% [markdown]
# ## The data: digit sequences and their reverses

# %%
L, n_digits = 20, 10


def make_batch(n, rng):
    x = rng.integers(0, n_digits, size=(n, L))
    return x, x[:, ::-1].copy()


X_test, Y_test = make_batch(1000, np.random.default_rng(123))
print("input ", X_test[0], "\ntarget", Y_test[0])

# %% [markdown]
# ## Encoder–decoder, with and without attention
#
# The encoder embeds each digit (plus its position) and runs a bidirectional LSTM: its
# outputs $a^{\langle t' \rangle}$ are the keys and values. The decoder is an LSTM that
# starts from the encoder's final states and receives only "which output position is this"
# as input. Without attention it must predict each digit from its own state; with
# attention, its state at step $t$ is the query of `nn.MultiheadAttention` (one head), and
# the context joins the state before the output layer.


# %%
class Seq2Seq(nn.Module):
    def __init__(self, attention, embed=16, hidden=32):
        super().__init__()
        self.digits = nn.Embedding(n_digits, embed)
        self.positions = nn.Embedding(L, embed)
        self.encoder = nn.LSTM(embed, hidden, batch_first=True, bidirectional=True)
        self.out_positions = nn.Embedding(L, embed)
        self.decoder = nn.LSTM(embed, 2 * hidden, batch_first=True)
        self.attention = nn.MultiheadAttention(2 * hidden, 1, batch_first=True) \
            if attention else None
        self.out = nn.Linear(4 * hidden if attention else 2 * hidden, n_digits)

    def forward(self, x):
        m, steps = x.shape
        where = np.broadcast_to(np.arange(steps), (m, steps))
        keys, (h, c) = self.encoder(self.digits(x) + self.positions(where))
        start = tuple(tg.concatenate([s[0], s[1]], axis=-1).unsqueeze(0) for s in (h, c))
        states, _ = self.decoder(self.out_positions(where), start)
        if self.attention is None:
            return self.out(states), None
        context, alphas = self.attention(states, keys, keys)
        return self.out(tg.concatenate([states, context], axis=-1)), alphas


def train(model, steps=200, batch=64):
    opt = optim.Adam(model.parameters(), lr=5e-3)
    data_rng, history = np.random.default_rng(1), []
    for _ in range(steps):
        x, y = make_batch(batch, data_rng)
        logits, _ = model(x)
        loss = F.cross_entropy(logits.reshape(-1, n_digits), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        history.append(loss.item())
    return history


def accuracy(model):
    model.eval()
    with tg.no_grad():
        logits, alphas = model(X_test)
    model.train()
    guess = logits.data.argmax(axis=-1)
    return (guess == Y_test).mean(), (guess == Y_test).all(axis=1).mean(), alphas


plain, attentive = Seq2Seq(attention=False), Seq2Seq(attention=True)
curves = {"without attention": train(plain), "with attention": train(attentive)}
plain_acc, plain_seq, _ = accuracy(plain)
attn_acc, attn_seq, alphas = accuracy(attentive)
print(f"without attention: {plain_acc:.1%} of digits, {plain_seq:.1%} of whole sequences")
print(f"with attention:    {attn_acc:.1%} of digits, {attn_seq:.1%} of whole sequences")

plt.figure(figsize=(6, 3.5))
for label, curve in curves.items():
    plt.plot(curve, label=label)
plt.xlabel("update")
plt.ylabel("cross-entropy per digit")
plt.legend()
plt.show()

# %% [markdown]
# ## Where the decoder looks
#
# The attention weights $\alpha^{\langle t, t' \rangle}$ of one test sequence: row $t$ is
# output step $t$, column $t'$ input step $t'$. The model has learnt the anti-diagonal,
# output $t$ reads input $L - 1 - t$, which is exactly how one reverses a sequence.

# %%
alpha = alphas.data[0]
plt.figure(figsize=(4.5, 4))
plt.imshow(alpha, cmap="viridis")
plt.xticks(range(L), X_test[0])
plt.yticks(range(L), Y_test[0])
plt.xlabel("input digit t'")
plt.ylabel("output digit t")
plt.colorbar(label="α⟨t, t'⟩")
plt.title("attention weights")
plt.show()
on_target = alphas.data[:, np.arange(L), L - 1 - np.arange(L)].mean()
print(f"mean weight on the mirrored input position: {on_target:.2f}")

# %%
assert sdpa_gap < 1e-12
assert np.allclose(alphas.data.sum(axis=-1), 1)
assert attn_acc > 0.95 and attn_seq > 0.6, (attn_acc, attn_seq)
assert attn_acc - plain_acc > 0.25, (attn_acc, plain_acc)
assert on_target > 0.5
print(f"lesson checks passed: attention {attn_acc:.0%} vs {plain_acc:.0%} of digits right")
