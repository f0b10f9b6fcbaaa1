# %% [markdown]
# # 7. Gradient checking: catching a bug in a backward pass
#
# *Course 2, week 1: numerical approximation of gradients, gradient checking and its
# implementation notes.*
#
# A wrong backward pass rarely crashes. The cost still goes down (more slowly, or to a
# worse value) and nothing tells you something is off. Gradient checking compares the
# gradients from backprop with ones computed from the definition of the derivative. We
# derive the check, write it by hand, then plant a bug in a custom op and let
# `check_model_gradients` and the coloured graph point at it.

# %%
import matplotlib.pyplot as plt
import numpy as np

import tinygrad_ng as tg
import tinygrad_ng.functional as F
import tinygrad_ng.nn as nn
from tinygrad_ng.viz import check_graph, draw_graph

tg.set_default_dtype(np.float64)  # finite differences need float64
tg.manual_seed(1)

# %% [markdown]
# ## Two-sided differences
#
# The derivative is the limit of a difference quotient. For a small $\varepsilon$,
#
# $$f'(\theta) \approx \frac{f(\theta + \varepsilon) - f(\theta - \varepsilon)}{2\varepsilon}
# \quad (\text{error } O(\varepsilon^2)), \qquad
# f'(\theta) \approx \frac{f(\theta + \varepsilon) - f(\theta)}{\varepsilon}
# \quad (\text{error } O(\varepsilon)).$$
#
# The course's example: $f(\theta) = \theta^3$ at $\theta = 1$, where $f'(1) = 3$. With
# $\varepsilon = 0.01$ the two-sided quotient gives $3.0001$ (error $10^{-4}$), the one-
# sided one $3.0301$ (error $0.03$). The centred difference is worth its second function
# evaluation.

# %%
def f(theta):
    return theta**3


theta = 1.0
two_sided = (f(theta + 0.01) - f(theta - 0.01)) / 0.02
one_sided = (f(theta + 0.01) - f(theta)) / 0.01
print(f"two-sided {two_sided:.6f} (error {abs(two_sided - 3):.1e}); "
      f"one-sided {one_sided:.6f} (error {abs(one_sided - 3):.1e})")

eps = np.logspace(-12, -1, 45)
err_two = np.abs((f(theta + eps) - f(theta - eps)) / (2 * eps) - 3)
err_one = np.abs((f(theta + eps) - f(theta)) / eps - 3)
plt.figure(figsize=(6, 4))
plt.loglog(eps, err_one, label="one-sided: error ∝ ε")
plt.loglog(eps, err_two, label="two-sided: error ∝ ε²")
plt.xlabel("ε")
plt.ylabel("|approximation − 3|")
plt.title("too large an ε: truncation error; too small: rounding error")
plt.legend()
plt.show()

# %% [markdown]
# ## The check for a whole network
#
# Reshape every parameter $W^{[1]}, b^{[1]}, \dots, W^{[L]}, b^{[L]}$ into one long
# vector $\theta$, and the gradients into $d\theta$. For each component $i$:
#
# $$d\theta_{\text{approx}}[i] = \frac{J(\theta_1, \dots, \theta_i + \varepsilon, \dots)
#   - J(\theta_1, \dots, \theta_i - \varepsilon, \dots)}{2\varepsilon},$$
#
# then compare the two vectors by their **relative difference**
#
# $$\text{difference} = \frac{\lVert d\theta_{\text{approx}} - d\theta \rVert_2}
#   {\lVert d\theta_{\text{approx}} \rVert_2 + \lVert d\theta \rVert_2}.$$
#
# With $\varepsilon = 10^{-7}$: about $10^{-7}$ or less is great, around $10^{-5}$ deserves
# a closer look, $10^{-3}$ or more means a bug. Here it is by hand, for any model:

# %%
def gradient_check(model, cost_fn, eps=1e-7):
    params = list(model.parameters())
    for p in params:                       # dθ from backprop
        p.grad = None
    cost_fn().backward()
    d_theta = np.concatenate([p.grad.ravel() for p in params])
    approx = []
    with tg.no_grad():                     # dθ_approx, one component at a time
        for p in params:
            flat = p.data.reshape(-1)      # a view: writing it nudges the parameter
            for i in range(flat.size):
                keep = flat[i]
                flat[i] = keep + eps
                plus = cost_fn().item()
                flat[i] = keep - eps
                minus = cost_fn().item()
                flat[i] = keep
                approx.append((plus - minus) / (2 * eps))
    approx = np.array(approx)
    return np.linalg.norm(approx - d_theta) / (np.linalg.norm(approx) + np.linalg.norm(d_theta))


X = tg.randn(10, 4)
Y = tg.Tensor((np.arange(10) % 2).reshape(-1, 1).astype(np.float64))
net = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 3), nn.Tanh(), nn.Linear(3, 1))


def cost():
    return F.binary_cross_entropy_with_logits(net(X), Y)


print(f"by hand: difference = {gradient_check(net, cost):.2e} "
      f"over {sum(p.size for p in net.parameters())} parameters")
report = tg.check_model_gradients(net, F.binary_cross_entropy_with_logits, X, Y)
print(report)

# %% [markdown]
# `tg.check_model_gradients(model, loss_fn, X, Y)` does the same in float64 and also
# reports the relative difference **per parameter**, which is what you need to find a
# bug once the total says there is one.
#
# ## A planted bug
#
# Write our own linear layer as a custom op: a `tg.Function` with a forward and a
# hand-written backward, $dA_{prev} = dZ\,W$, $dW = dZ^T A_{prev}$, $db = \sum_i dZ^{(i)}$
# (batch-first). Then a second version with the kind of slip the course plants in its
# exercise: $dW$ accidentally multiplied by 2.

# %%
class MyLinear(tg.Function):
    """Z = A·Wᵀ + b (batch-first), with a hand-written backward."""

    op, inputs, derivatives = "my_linear", ("A", "W", "b"), ("W", "A", "1")

    @staticmethod
    def forward(ctx, A, W, b):
        ctx.save_for_backward(A, W)
        return A @ W.T + b

    @staticmethod
    def backward(ctx, dZ):
        A, W = ctx.saved_tensors
        return dZ @ W, dZ.T @ A, dZ.sum(axis=0)


class BuggyLinear(MyLinear):
    op = "buggy_linear"

    @staticmethod
    def backward(ctx, dZ):
        A, W = ctx.saved_tensors
        return dZ @ W, 2 * dZ.T @ A, dZ.sum(axis=0)     # BUG: dW twice too large


class Dense(nn.Module):
    """A layer that calls a given op; weights N(0, 1/n_in), biases 0."""

    def __init__(self, n_in, n_out, op=MyLinear):
        super().__init__()
        self.op = op
        self.weight = nn.Parameter(np.random.default_rng(n_in * n_out).standard_normal(
            (n_out, n_in)) / np.sqrt(n_in))
        self.bias = nn.Parameter(np.zeros(n_out))

    def forward(self, A):
        return self.op.apply(A, self.weight, self.bias)


def model_with(op_of_layer_2):
    return nn.Sequential(Dense(4, 5), nn.Tanh(), Dense(5, 3, op=op_of_layer_2), nn.Tanh(),
                         Dense(3, 1))


buggy = model_with(BuggyLinear)
costs = []
with tg.no_grad():
    costs.append(F.binary_cross_entropy_with_logits(buggy(X), Y).item())
print("the buggy model trains without complaint: cost", end=" ")
for _ in range(50):
    buggy.zero_grad()
    F.binary_cross_entropy_with_logits(buggy(X), Y).backward()
    for p in buggy.parameters():
        p.data = p.data - 0.5 * p.grad
    with tg.no_grad():
        costs.append(F.binary_cross_entropy_with_logits(buggy(X), Y).item())
print(f"{costs[0]:.4f} -> {costs[-1]:.4f}")

# %% [markdown]
# Nothing looks wrong. Now the check:

# %%
buggy = model_with(BuggyLinear)
bug_report = tg.check_model_gradients(buggy, F.binary_cross_entropy_with_logits, X, Y)
print(bug_report)
suspect = max(bug_report.per_parameter, key=bug_report.per_parameter.get)
print(f"\nthe largest per-parameter difference points at: {suspect}")

# %% [markdown]
# The total is far above $10^{-3}$: a bug. The per-parameter differences say where:
# only `2.weight` (the weight of the second `Dense` layer, $W^{[2]}$) is off; its bias and
# the layers below it are fine, because the buggy op still passes the correct
# $dA_{prev}$ downwards. A custom op can also be checked on its own with `tg.gradcheck`,
# which names the input whose gradient is wrong:

# %%
A0, W0, b0 = (tg.randn(*s, requires_grad=True) for s in ((6, 5), (3, 5), (3,)))
print("MyLinear passes:", tg.gradcheck(MyLinear.apply, (A0, W0, b0)))
try:
    tg.gradcheck(BuggyLinear.apply, (A0, W0, b0))
except tg.GradcheckError as e:
    print(e)

# %% [markdown]
# ## The coloured graph
#
# `draw_graph(cost, check=True)` runs the same check on every leaf of the drawn graph
# (replaying the recorded ops with nudged values) and colours it: green for a relative
# difference below $10^{-6}$, amber below $10^{-3}$, red above. The bug lights up.

# %%
for name, p in buggy.named_parameters():
    p.name = name
cost_buggy = F.binary_cross_entropy_with_logits(buggy(X), Y)
cost_buggy.backward(retain_graph=True)
draw_graph(cost_buggy, show_values=False, check=True,
           title="gradient check of every parameter: 2.weight (W[2]) is red")

# %%
status = {c.leaf.name: c.status for c in check_graph(cost_buggy)}
print(status)

# %% [markdown]
# ## Fixed
#
# With the correct op in layer 2 the check passes.

# %%
fixed = model_with(MyLinear)
fixed_report = tg.check_model_gradients(fixed, F.binary_cross_entropy_with_logits, X, Y)
print(fixed_report)

# %% [markdown]
# ## Implementation notes (from the course)
#
# * Gradient checking is slow, two evaluations of $J$ per parameter: use it to debug,
#   never during training.
# * When it fails, look at the components (here: per parameter) to find the bug.
# * Include the regularisation term in $J$ if the backward includes it.
# * It does not work with dropout's random masks; check with dropout off (the library's
#   checks hold the masks fixed across evaluations, which also works).
# * Run it at initialisation, and perhaps again after some training, since some bugs only
#   show once the weights have grown.

# %%
assert abs(two_sided - 3.0001) < 1e-9 and abs(one_sided - 3.0301) < 1e-9
assert report.passed and report.difference < 1e-7
assert bug_report.difference > 1e-3 and not bug_report.passed
assert suspect == "2.weight"
assert all(d < 1e-6 for name, d in bug_report.per_parameter.items() if name != "2.weight")
assert status["2.weight"] == "red"
assert all(s == "green" for name, s in status.items() if name != "2.weight")
assert fixed_report.passed
print(f"lesson checks passed: the bug gives {bug_report.difference:.1e}, the fix "
      f"{fixed_report.difference:.1e}")
