# %% [markdown]
# # 17. A character-level language model
#
# *Course 5, week 1: language models, sampling novel sequences, gradient clipping
# ("Dinosaurus Island").*
#
# A language model gives the probability of the next character given the ones before it,
# $P(y^{\langle t \rangle} \mid y^{\langle 1 \rangle}, \dots, y^{\langle t-1 \rangle})$. Trained
# on a list of names, it can then *sample* new names one character at a time. We make our
# own list (no download: names built from syllables, a made-up "dinosaur" language), train
# an embedding + LSTM + softmax model with gradient clipping and truncated
# backpropagation through time, and sample from it.

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
# ## The data: a made-up list of names
#
# Each name is a random first part, one to two middle syllables and an ending, so the data
# has structure to learn (which letters follow which, how names end) and no two runs of
# the notebook need the internet.

# %%
starts = ["tyr", "bra", "ste", "velo", "allo", "dip", "spino", "ptero", "tri", "igua",
          "ankylo", "pachy", "micro", "carno", "gallo"]
middles = ["no", "ci", "ra", "co", "lo", "ke", "to", "do", "pi", "ma", "ri", "so"]
endings = ["saurus", "don", "raptor", "tops", "mimus", "ceratops", "dactyl", "venator"]


def make_name():
    k = rng.integers(1, 3)
    return rng.choice(starts) + "".join(rng.choice(middles, k)) + rng.choice(endings)


names = sorted({make_name() for _ in range(3000)})
print(len(names), "names, e.g.", ", ".join(names[:: len(names) // 6]))

chars = sorted(set("".join(names)) | {"\n"})
char_to_ix = {c: i for i, c in enumerate(chars)}
ix_to_char = dict(enumerate(chars))
vocab = len(chars)
print(f"{vocab} characters; '\\n' ends a name")

# %% [markdown]
# The whole list becomes one stream of character indices, names separated by `\n`. The
# stream is cut into `batch` parallel tracks; training walks along them in chunks of
# `seq_len` characters, and the model learns to predict each next character.

# %%
order = rng.permutation(len(names))
stream = np.array([char_to_ix[c] for i in order for c in names[i] + "\n"])
batch, seq_len = 32, 25
n_chunks = (len(stream) - 1) // (batch * seq_len)
usable = n_chunks * batch * seq_len
inputs = stream[:usable].reshape(batch, -1).T          # (time, batch)
targets = stream[1:usable + 1].reshape(batch, -1).T
print(f"{len(stream)} characters in {n_chunks} chunks of {seq_len} steps × {batch} tracks")

# %% [markdown]
# ## The model
#
# $x^{\langle t \rangle}$ is a character, looked up in an embedding table; an LSTM carries
# the state; a linear layer and a softmax give $\hat y^{\langle t \rangle}$, the
# distribution of the next character. The loss is the cross-entropy of every step.


# %%
class CharModel(nn.Module):
    def __init__(self, vocab, embed=16, hidden=96):
        super().__init__()
        self.emb = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, x, state=None):
        out, state = self.lstm(self.emb(x), state)
        return self.head(out), state


model = CharModel(vocab)
opt = optim.Adam(model.parameters(), lr=1e-2)
print(model)

# %% [markdown]
# ## Training: clipping and truncated backpropagation through time
#
# Two things keep training stable:
#
# * **Gradient clipping.** An exploding gradient makes one update throw the weights far
#   away. The course clips every element to $[-5, 5]$ (`nn.utils.clip_grad_value_`); here
#   we rescale all gradients together when their total norm exceeds 5
#   (`nn.utils.clip_grad_norm_`), which keeps their direction.
# * **Truncated BPTT.** The state flows on from one chunk to the next (the model sees
#   context longer than 25 characters), but `detach()` cuts the graph between chunks, so
#   each backward pass covers only the last 25 steps.

# %%
losses, norms = [], []
for epoch in range(3):
    state = None
    for k in range(n_chunks):
        x = inputs[k * seq_len:(k + 1) * seq_len]
        y = targets[k * seq_len:(k + 1) * seq_len]
        logits, state = model(x, state)
        loss = F.cross_entropy(logits.reshape(-1, vocab), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        norms.append(nn.utils.clip_grad_norm_(model.parameters(), 5.0).item())
        opt.step()
        state = tuple(s.detach() for s in state)  # truncated BPTT: keep values, cut graph
        losses.append(loss.item())
    print(f"epoch {epoch + 1}: loss {np.mean(losses[-n_chunks:]):.3f} nats per character")

fig, ax = plt.subplots(1, 2, figsize=(10, 3.5))
ax[0].plot(losses, label="loss")
ax[0].axhline(np.log(vocab), color="gray", ls="--", label="uniform guess, ln(vocab)")
ax[0].set_xlabel("update")
ax[0].set_ylabel("cross-entropy per character")
ax[0].legend()
ax[1].semilogy(norms)
ax[1].axhline(5.0, color="red", ls="--", label="max_norm: clipped above it")
ax[1].set_xlabel("update")
ax[1].set_ylabel("gradient norm before clipping")
ax[1].legend()
plt.show()
final_loss = float(np.mean(losses[-n_chunks:]))

# %% [markdown]
# ## Sampling novel names
#
# Start from a fresh state and the character `\n` (the start of a name), then repeat:
# compute $\hat y^{\langle t \rangle}$, draw the next character from it, and feed that
# character back in, until the model writes `\n` or 30 characters. The state carries the
# name so far.

# %%
def sample(model, rng, max_len=30):
    model.eval()
    with tg.no_grad():
        state, ix, out = None, char_to_ix["\n"], []
        for _ in range(max_len):
            logits, state = model(np.array([[ix]]), state)
            p = F.softmax(logits.reshape(-1)).data.astype(np.float64)
            ix = int(rng.choice(vocab, p=p / p.sum()))
            if ix == char_to_ix["\n"]:
                break
            out.append(ix_to_char[ix])
    model.train()
    return "".join(out)


samples = [sample(model, np.random.default_rng(s)) for s in range(20)]
for s in samples[:10]:
    print(s)
novel = [s for s in samples if s not in set(names)]
print(f"{len(novel)} of {len(samples)} samples are not in the training list")

# %%
well_formed = [s for s in samples if 3 <= len(s) <= 29 and s.isalpha()
               and any(s.endswith(e) for e in endings)]
print(f"final loss {final_loss:.3f} (uniform: {np.log(vocab):.3f}); "
      f"{len(well_formed)}/{len(samples)} samples end like a name")
assert final_loss < 1.2, final_loss
assert np.mean(losses[:10]) > 2.5
assert all(np.isfinite(norms)) and max(norms) > 0.1
assert len(well_formed) >= 15, samples
assert all(set(s) <= set(chars) for s in samples)
print("lesson checks passed")
