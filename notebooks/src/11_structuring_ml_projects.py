# %% [markdown]
# # 11. Structuring machine-learning projects
#
# *Course 3, weeks 1–2: a single-number evaluation metric, satisficing and optimising
# metrics, train/dev/test distributions, human-level performance, error analysis,
# mismatched training and dev/test sets, transfer learning, multi-task learning.*
#
# This course adds no new layer. It is about deciding **what to do next**: which metric to
# trust, which data to evaluate on, and which gap — bias, variance, data mismatch — is
# worth working on. We follow it on a digit recogniser whose users photograph their
# digits with a phone, while almost all the labelled data are clean scans.

# %%
import copy

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits

import tinygrad_ng as tg
import tinygrad_ng.functional as F
import tinygrad_ng.nn as nn
from tinygrad_ng import metrics, optim
from tinygrad_ng.data import DataLoader, train_dev_test_split
from tinygrad_ng.utils import diagnose
from tinygrad_ng.viz import plot_misclassified

# %% [markdown]
# ## The data: clean scans and phone photos
#
# scikit-learn's digits (1,797 images of 8×8 pixels, shipped with the library) play the
# **scans**. For the **phone photos** we take other digits and degrade them in code: each
# is blurred 0, 1 or 2 times with a 3×3 box filter, some are faint (60% of the contrast)
# and some noisy. We keep what was done to each image, so we can later tag mistakes with
# it — the way a person reviewing them would write "blurry".

# %%
digits = load_digits()
X_all = (digits.data / 16).astype(np.float32)  # pixels in [0, 1]
y_all = digits.target
order = np.random.default_rng(0).permutation(len(X_all))
scans, phone = order[:1200], order[1200:]


def blur(X):
    """A 3x3 box blur of flat 8x8 images."""
    padded = np.pad(X.reshape(-1, 8, 8), ((0, 0), (1, 1), (1, 1)))
    out = sum(padded[:, i:i + 8, j:j + 8] for i in range(3) for j in range(3)) / 9
    return out.reshape(-1, 64)


def photograph(X, seed):
    """Degraded copies of the images X, and what was done to each (boolean masks)."""
    rng = np.random.default_rng(seed)
    m = len(X)
    passes = rng.integers(0, 3, m)
    faint = rng.random(m) < 0.3
    noisy = rng.random(m) < 0.4
    out = X.copy()
    for k in (1, 2):
        out[passes >= k] = blur(out[passes >= k])
    out *= np.where(faint, 0.6, 1.0)[:, None]
    out += np.where(noisy, 0.1, 0.03)[:, None] * rng.standard_normal(out.shape)
    how = {"very blurry": passes == 2, "faint": faint, "noisy": noisy}
    return np.clip(out, 0, 1).astype(np.float32), how


X_scan, y_scan = X_all[scans], y_all[scans]
X_phone, how_phone = photograph(X_all[phone], seed=1)
y_phone = y_all[phone]
print(f"{len(X_scan)} scans, {len(X_phone)} phone photos")

fig, axes = plt.subplots(2, 8, figsize=(10, 2.8))
for i in range(8):
    axes[0, i].imshow(X_scan[i].reshape(8, 8), cmap="gray_r")
    axes[1, i].imshow(X_phone[i].reshape(8, 8), cmap="gray_r")
    axes[0, i].set_title(str(y_scan[i]))
    axes[1, i].set_title(str(y_phone[i]))
for ax in axes.flat:
    ax.axis("off")
axes[0, 0].text(-12, 4, "scans", fontsize=10)
axes[1, 0].text(-12, 4, "phone", fontsize=10)
plt.show()

# %% [markdown]
# The same small network throughout: two tanh hidden layers and a linear output layer
# (the scores go into the softmax cross-entropy), trained with Adam on mini-batches.

# %%
def mlp(hidden=64, n_out=10, seed=0):
    tg.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, hidden), nn.Tanh(), nn.Linear(hidden, hidden),
                         nn.Tanh(), nn.Linear(hidden, n_out))


def fit(model, X, y, epochs=40, lr=3e-3, loss=F.cross_entropy, seed=0):
    opt = optim.Adam(model.parameters(), lr=lr)
    model.train()
    for _ in range(epochs):
        for xb, yb in DataLoader(X, y, batch_size=64, seed=seed):
            opt.zero_grad()
            loss(model(xb), yb).backward()
            opt.step()
    return model


def scores(model, X):
    with tg.no_grad():
        return model.eval()(tg.Tensor(X)).data


def predict(model, X):
    return scores(model, X).argmax(axis=1)


def error(model, X, y):
    return 1 - metrics.accuracy(y, predict(model, X))

# %% [markdown]
# ## 1. A single-number evaluation metric
#
# Precision (of the examples called positive, how many are) and recall (of the positive
# examples, how many were found) pull in opposite directions, and with two numbers it is
# hard to say which classifier is better. The course combines them into one, the **F1
# score**, their harmonic mean:
#
# $$F_1 = \frac{2}{\frac{1}{P} + \frac{1}{R}} = \frac{2PR}{P + R}.$$
#
# The course's classifiers: A has $P = 95\%$, $R = 90\%$; B has $P = 98\%$, $R = 85\%$.

# %%
f1_A, f1_B = metrics.f_score(0.95, 0.90), metrics.f_score(0.98, 0.85)
print(f"F1: A {f1_A:.1%}, B {f1_B:.1%} -> A is better")

# %% [markdown]
# On the digits (scans only, for now: a 70/15/15 split) a dev set with ten classes gives a
# precision and a recall per class; the **macro average** of the per-class F1 is again a
# single number. The confusion matrix shows which digits are confused with which (rows:
# true digit, columns: predicted; normalised by row, its diagonal is each class's recall).

# %%
(Xs_tr, ys_tr), (Xs_dev, ys_dev), _ = train_dev_test_split(X_scan, y_scan, (0.7, 0.15, 0.15),
                                                           seed=0)
base = fit(mlp(), Xs_tr, ys_tr)
pred_dev = predict(base, Xs_dev)
report = metrics.classification_report(ys_dev, pred_dev)
print(report)
print(f"top-3 accuracy: {metrics.top_k_accuracy(ys_dev, scores(base, Xs_dev), k=3):.3f}")

cm = metrics.confusion_matrix(ys_dev, pred_dev, normalize="true")
plt.figure(figsize=(4.2, 3.6))
plt.imshow(cm, cmap="Blues")
plt.xlabel("predicted")
plt.ylabel("true")
plt.xticks(range(10))
plt.yticks(range(10))
plt.colorbar()
plt.title("confusion matrix (rows sum to 1)")
plt.show()

# %% [markdown]
# ### Optimising and satisficing metrics
#
# Some things only need to be good enough. The course's example: maximise accuracy
# subject to a running time of at most 100 ms. Here we try five widths of the hidden
# layers, optimise the macro F1 on the dev set, and require at most 5,000
# multiply-adds per prediction (a measure of running time that does not depend on the
# machine).

# %%
runs = []
for hidden in (8, 16, 32, 64, 128):
    model = fit(mlp(hidden), Xs_tr, ys_tr)
    runs.append({"hidden": hidden,
                 "f1": metrics.f1_score(ys_dev, predict(model, Xs_dev), average="macro"),
                 "multiply_adds": 64 * hidden + hidden * hidden + hidden * 10})
choice = metrics.select_run(runs, optimizing="f1", satisficing={"multiply_adds": 5000})
print(choice)
print("chosen:", choice.best)
best_unconstrained = max(runs, key=lambda r: r["f1"])

# %% [markdown]
# ## 2. Train, dev and test sets from different distributions
#
# The application will see **phone photos**, so dev and test sets must come from them:
# the dev set is the target we aim at. We have only 597 photos, so the course's advice is
# to use them for dev and test, and put the rest in training with all the scans.
# `train_dev_test_split(..., target=(X_phone, y_phone))` does that: `fractions` split the
# *target* examples (10% to training, 45% dev, 45% test) and every scan is training data.
#
# With training and dev sets from different distributions, a dev error above the
# training error can be variance *or* **data mismatch**. To tell them apart we hold out
# a **train-dev** set: same distribution as training, but not trained on
# (`train_dev=0.15`). We keep each image's row number beside its label, to look its
# degradation up later.

# %%
ids = np.arange(len(X_phone))
(X_tr, Yi_tr), (X_td, Yi_td), (X_dev, Yi_dev), (X_te, Yi_te) = train_dev_test_split(
    X_scan, np.stack([y_scan, np.full(len(y_scan), -1)], axis=1), (0.1, 0.45, 0.45), seed=0,
    target=(X_phone, np.stack([y_phone, ids], axis=1)), train_dev=0.15)
y_tr, y_td, y_dev, y_te = Yi_tr[:, 0], Yi_td[:, 0], Yi_dev[:, 0], Yi_te[:, 0]
dev_ids = Yi_dev[:, 1]  # row numbers of the dev photos in X_phone
phones_in_training = int((Yi_tr[:, 1] >= 0).sum() + (Yi_td[:, 1] >= 0).sum())
print(f"train {len(y_tr)}, train-dev {len(y_td)}, dev {len(y_dev)}, test {len(y_te)} "
      f"({phones_in_training} phone photos among the training data)")

# %% [markdown]
# ## 3. Human-level performance and the diagnosis table
#
# Human-level error — the best a person (or a team of experts) does — is the proxy for
# the Bayes error: no classifier can do better than Bayes error, and humans are close to
# it on perception tasks. Suppose people misread 2% of these phone photos. Then:
#
# | gap | between | the course's remedies |
# |---|---|---|
# | avoidable bias | human-level and train | bigger model, longer or better training, new design |
# | variance | train and train-dev | more data, regularisation, new design |
# | data mismatch | train-dev and dev | error analysis, synthesise or collect data like dev |
# | overfitting to dev | dev and test | a bigger dev set |

# %%
HUMAN = 0.02
model = fit(mlp(), X_tr, y_tr)
errors = {name: error(model, X, y) for name, X, y in
          (("train", X_tr, y_tr), ("train-dev", X_td, y_td), ("dev", X_dev, y_dev))}
first = diagnose(errors["train"], errors["dev"], human_error=HUMAN,
                 train_dev_error=errors["train-dev"])
print(first)

# %% [markdown]
# The largest gap is between train-dev and dev: the network does well on the
# distribution it was trained on and badly on the photos. More data like the scans, or
# regularisation, would hardly help; the course's remedies for data mismatch do.

# %% [markdown]
# ## 4. Error analysis
#
# Before fixing anything, look at the dev mistakes and count what they have in common —
# the course's spreadsheet, one row per mistake and one column per category. Here the
# categories are how each photo was degraded; a category's share of the mistakes is the
# **ceiling** on what fixing it can gain.

# %%
pred_dev = predict(model, X_dev)
tags = {name: mask[dev_ids] for name, mask in how_phone.items()}
analysis = metrics.error_analysis(y_dev, pred_dev, tags)
print(analysis)
print()
print(analysis.spreadsheet(max_rows=8))
plot_misclassified(X_dev, y_dev, pred_dev, image_shape=(8, 8), analysis=analysis,
                   max_images=16)
plt.show()
top_tag = next(iter(analysis.counts))

# %% [markdown]
# More than half of the mistakes are on **very blurry** photos, and about half on noisy
# ones: working on blur (and noise) is where the ceiling is highest; faint photos matter
# less. The remedy for both is the same: training data that look like the photos.

# %% [markdown]
# ## 5. Addressing data mismatch: artificial data synthesis
#
# Make the training data more like the dev set: photograph every training image twice
# more with the same kinds of degradation (new random draws). The course's caveat:
# synthesised data can cover only a small corner of the real variety (a few blur levels,
# one kind of noise), and the network may overfit to that corner; here the dev set was
# made by the same process, so the synthesis matches it well.

# %%
X_aug = np.concatenate([X_tr, photograph(X_tr, seed=2)[0], photograph(X_tr, seed=3)[0]])
y_aug = np.tile(y_tr, 3)
model2 = fit(mlp(), X_aug, y_aug)
X_td_synth, _ = photograph(X_td, seed=4)  # the train-dev set follows the new distribution
X_td2, y_td2 = np.concatenate([X_td, X_td_synth]), np.concatenate([y_td, y_td])
second = diagnose(error(model2, X_aug, y_aug), error(model2, X_dev, y_dev),
                  human_error=HUMAN, train_dev_error=error(model2, X_td2, y_td2),
                  test_error=error(model2, X_te, y_te))
print(second)

# %% [markdown]
# The data mismatch all but disappears and the dev error falls by about ten points. The
# training data are harder now, so the train-dev error rose: the largest gap is now
# variance, and the next step would be its remedies (more data, regularisation). The
# test error, on photos never used to make a decision, confirms the dev error was not a
# lucky pick.

# %% [markdown]
# ## 6. Transfer learning
#
# A network trained for task A (the ten digits, lots of labels) has learned features —
# strokes, loops — that help with a task B that has few labels. The course's recipe:
# replace the last layer by a new, randomly initialised one for B; with little data,
# freeze the rest (`requires_grad_(False)`) and train only the new head.
#
# Task B here: tell **even from odd digits**, with only 30 labelled photos. It makes
# sense because A and B share the input (digit images), A has far more data than B, and
# A's low-level features should help B. We compare with a network trained on the 30
# photos from scratch, over four draws of the 30.

# %%
def is_even(y):
    return (y % 2 == 0).astype(np.int64)


pretrained = model2
results = []
for draw in range(4):
    rng = np.random.default_rng(draw)
    few = rng.choice(len(X_dev), 30, replace=False)
    rest = np.setdiff1d(np.arange(len(X_dev)), few)
    X_few, y_few = X_dev[few], is_even(y_dev[few])

    scratch = fit(mlp(n_out=2, seed=draw), X_few, y_few, epochs=100, lr=1e-2)

    transfer = copy.deepcopy(pretrained)
    nn.replace_head(transfer, nn.Linear(64, 2))
    nn.freeze_all_but_last(transfer, 1)
    body_before = [p.data.copy() for p in transfer.parameters() if not p.requires_grad]
    fit(transfer, X_few, y_few, epochs=100, lr=1e-2)
    body_after = [p.data for p in transfer.parameters() if not p.requires_grad]
    assert all(np.array_equal(a, b) for a, b in zip(body_before, body_after))

    results.append([metrics.accuracy(is_even(y_dev[rest]), predict(m, X_dev[rest]))
                    for m in (scratch, transfer)])
acc_scratch, acc_transfer = np.mean(results, axis=0)
print(transfer)
print(f"even/odd from 30 photos: from scratch {acc_scratch:.1%}, "
      f"transferred (frozen body + new head) {acc_transfer:.1%}")

# %% [markdown]
# The frozen body stayed bit-for-bit the same (the assert above), yet the new head on
# top of it beats a whole network trained from the 30 photos. With more data for B one
# would unfreeze (`requires_grad_()`) and fine-tune every layer.

# %% [markdown]
# ## 7. Multi-task learning
#
# One network can answer several yes/no questions about an image at once: here *is the
# digit even*, *is it at least 5*, *does it have a closed loop* (0, 6, 8, 9) and *is it
# prime* (2, 3, 5, 7). The output layer has four units, each with a sigmoid, and the cost
# sums the logistic loss over the labels:
#
# $$J = \frac{1}{m} \sum_{i=1}^{m} \sum_{j=1}^{4} \mathcal{L}\big(\hat y_j^{(i)}, y_j^{(i)}\big).$$
#
# Labellers did not answer every question: 40% of the labels are missing (the course's
# "?", NaN here). The sum then runs over the labels that exist: a mask of 0/1 weights,
# `F.binary_cross_entropy_with_logits(z, Y, weight=mask, reduction="sum") / m`.

# %%
def questions(y):
    return np.stack([y % 2 == 0, y >= 5, np.isin(y, [0, 6, 8, 9]),
                     np.isin(y, [2, 3, 5, 7])], axis=1).astype(np.float32)


NAMES = ["even", ">= 5", "loop", "prime"]
(Xm_tr, ym_tr), (Xm_dev, ym_dev), _ = train_dev_test_split(X_all, y_all, (0.5, 0.5, 0.0),
                                                           seed=1)
Y_full = questions(ym_tr)
Y_partial = Y_full.copy()
Y_partial[np.random.default_rng(0).random(Y_full.shape) < 0.4] = np.nan
mask = ~np.isnan(Y_partial)
print(Y_partial[:5])
print(f"{mask.mean():.0%} of the labels given; {mask.all(axis=1).mean():.0%} of the images "
      "have all four")


def masked_cost(logits, Y):
    Y = Y.data
    return F.binary_cross_entropy_with_logits(logits, Y, weight=~np.isnan(Y),
                                              reduction="sum") / len(Y)


def task_accuracy(model, X, y):
    return ((scores(model, X) > 0) == questions(y)).mean(axis=0)


multi = fit(mlp(n_out=4), Xm_tr, Y_partial, loss=masked_cost)
complete = mask.all(axis=1)  # the alternative: drop every image with a missing label
only_complete = fit(mlp(n_out=4), Xm_tr[complete], Y_partial[complete], loss=masked_cost)
acc_multi = task_accuracy(multi, Xm_dev, ym_dev)
acc_complete = task_accuracy(only_complete, Xm_dev, ym_dev)
for name, a, b in zip(NAMES, acc_multi, acc_complete):
    print(f"{name:>6}: masked loss {a:.1%}   complete rows only {b:.1%}")

# %% [markdown]
# Masking lets every labelled answer teach the network; throwing away images with any
# "?" would keep only about one in nine. The four tasks share the hidden layers —
# the course's condition for multi-task learning to pay: tasks that benefit from shared
# low-level features, with similar amounts of data each.

# %% [markdown]
# ## Lesson checks

# %%
assert round(f1_A, 3) == 0.924 and round(f1_B, 3) == 0.910 and f1_A > f1_B
assert report.accuracy > 0.9 and report.macro["f1"] > 0.9
assert choice.best["multiply_adds"] <= 5000
assert choice.best["f1"] == max(r["f1"] for r in runs if r["multiply_adds"] <= 5000)
assert best_unconstrained["multiply_adds"] > 5000  # the constraint changed the choice
assert first.largest_gap == "data mismatch" and first.high_data_mismatch
assert first.data_mismatch > 1.5 * first.variance
assert top_tag == "very blurry"
assert analysis.ceiling("very blurry") < analysis.error_rate
assert second.data_mismatch < first.data_mismatch / 2
assert errors["dev"] - error(model2, X_dev, y_dev) > 0.05
assert abs(second.dev_overfitting) < 0.03
assert acc_transfer > acc_scratch + 0.03
assert acc_multi.mean() > acc_complete.mean() + 0.02 and acc_multi.min() > 0.85
print(f"lesson checks passed: dev error {errors['dev']:.1%} -> "
      f"{error(model2, X_dev, y_dev):.1%}, transfer {acc_transfer:.1%} vs "
      f"{acc_scratch:.1%}, multi-task {acc_multi.mean():.1%} vs {acc_complete.mean():.1%}")
