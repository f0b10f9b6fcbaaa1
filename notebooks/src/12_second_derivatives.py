# %% [markdown]
# # 12. Second derivatives: backpropagation is itself a graph
#
# *Beyond the course: derivatives of derivatives, Newton's method and Hessian-vector
# products.*
#
# Backpropagation computes the gradient with a sequence of elementary operations
# (multiplications by local derivatives, sums over paths). Those operations can be
# recorded like any other computation: then the gradient is a tensor with a graph of its
# own, and backpropagating through *that* graph gives second derivatives.
#
# In `tinygrad_ng` the door is `tg.grad(outputs, inputs, create_graph=True)`: it returns the
# gradients as Tensors that carry the graph of the backward pass. This notebook draws that
# graph for the course's first example, builds a Hessian, races Newton's method against
# gradient descent, and checks a Hessian-vector product against finite differences.

# %%
import matplotlib.pyplot as plt
import numpy as np

import tinygrad_ng as tg
from tinygrad_ng.autograd.functional import hessian, hvp
from tinygrad_ng.data import make_moons
from tinygrad_ng.viz import draw_graph

tg.set_default_dtype(np.float64)  # second derivatives and Newton steps want full precision

# %% [markdown]
# ## The backward pass of $J = 3(a + bc)$, drawn
#
# Notebook 1 computed $\frac{dJ}{da} = 3$, $\frac{dJ}{db} = 3c = 6$, $\frac{dJ}{dc} = 3b = 9$
# by walking the graph backwards. Each of those steps is an operation: the gradient
# arriving at $J = 3v$ is $\frac{dJ}{dJ} = 1$, it is multiplied by $3$, passed through the
# addition unchanged, then multiplied by $c$ (for $b$) and by $b$ (for $c$).
#
# To see the whole backward pass, start it from a tensor `dJ/dJ` = 1 that is itself part
# of the graph (the `grad_outputs` argument), and ask for `create_graph=True`.

# %%
a, b, c = (tg.Tensor(v, requires_grad=True, name=n) for v, n in ((5.0, "a"), (3.0, "b"),
                                                                  (2.0, "c")))
J = 3 * (a + b * c)
seed = tg.Tensor(1.0, requires_grad=True, name="dJ/dJ")
da, db, dc = tg.grad(J, [a, b, c], grad_outputs=seed, create_graph=True)
da.name, db.name, dc.name = "dJ/da", "dJ/db", "dJ/dc"
print(f"dJ/da = {da.item()}, dJ/db = {db.item()}, dJ/dc = {dc.item()}")

# %% [markdown]
# Drawing `dJ/db` shows the graph that computed it: `dJ/dJ · 3` (the backward step of
# $J = 3v$; the addition passes it on unchanged, so it needs no node), then times $c$.
# The nodes made by a backward rule are grouped in a box named after the op whose
# backward they compute; the edges from `c` are the backward pass reading the forward
# pass's values.

# %%
draw_graph(db, show_grads=False, title="dJ/db = (dJ/dJ · 3) · c: the backward pass as a graph")

# %% [markdown]
# Because `dJ/db` is a tensor with a graph, it can be differentiated again:
# $\frac{\partial}{\partial c}\frac{dJ}{db} = 3$ and
# $\frac{\partial}{\partial b}\frac{dJ}{db} = 0$ (the second derivatives of $J$; `None`
# below, with `allow_unused=True`: `dJ/db` does not depend on $b$ at all), and even
# $\frac{\partial}{\partial (dJ/dJ)}\frac{dJ}{db} = 3c = 6$: the gradient is linear in
# the seed.

# %%
d2_dc, d2_db, d_seed = tg.grad(db, [c, b, seed], allow_unused=True)
print("d/dc dJ/db =", d2_dc, "  d/db dJ/db =", d2_db, "  d/d(seed) dJ/db =", d_seed)

# %% [markdown]
# ## The Hessian of a small loss
#
# The **Hessian** $H_{ij} = \frac{\partial^2 J}{\partial w_i \partial w_j}$ collects every
# second derivative. For the mean squared error of a linear model,
# $J(w) = \frac{1}{m}\lVert Xw - y\rVert^2$, it is $H = \frac{2}{m} X^\top X$, whatever $w$.
# `hessian(f, w)` builds it one backward pass per row (for small problems: the matrix has
# $n^2$ entries).

# %%
rng = np.random.default_rng(0)
X = rng.standard_normal((20, 3))
y = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.standard_normal(20)


def mse(w):
    return ((tg.Tensor(X) @ w - y) ** 2).mean()


w0 = tg.Tensor(np.zeros(3))
H_mse = hessian(mse, w0).numpy()
print(np.round(H_mse, 4))
print("matches 2/m XᵀX:", np.allclose(H_mse, 2 / len(X) * X.T @ X))

# %% [markdown]
# ## Newton's method against gradient descent: $J(w) = w^2 - 10w + 25$
#
# Gradient descent steps against the slope: $w \leftarrow w - \alpha J'(w)$. Newton's
# method also uses the curvature: it jumps to the minimum of the quadratic that matches
# $J$'s value, slope and curvature at $w$,
#
# $$w \leftarrow w - \frac{J'(w)}{J''(w)} \qquad\text{(in } n \text{ dimensions: }
# w \leftarrow w - H^{-1}\nabla J\text{)}.$$
#
# $J = (w - 5)^2$ *is* a quadratic, so Newton lands on $w = 5$ in one step.

# %%
def cost(w):
    return w ** 2 - 10 * w + 25


def newton_step(f, w):
    """w − H⁻¹∇f(w), with ∇f and H from autograd."""
    g, = tg.grad(f(w), w)
    H = hessian(f, w).numpy().reshape(w.size, w.size)
    return tg.Tensor(w.data - np.linalg.solve(H, g.ravel()).reshape(w.shape),
                     requires_grad=True)


def steps_to_converge(step, w, tol=1e-6, max_steps=10_000):
    for k in range(1, max_steps + 1):
        w = step(w)
        if abs(w.item() - 5) < tol:
            return k, w.item()
    return max_steps, w.item()


def gd_step(w, lr=0.1):
    g, = tg.grad(cost(w), w)
    return tg.Tensor(w.data - lr * g, requires_grad=True)


start = tg.Tensor(np.array([0.0]), requires_grad=True)
newton_steps, newton_w = steps_to_converge(lambda w: newton_step(cost, w), start)
gd_steps, gd_w = steps_to_converge(gd_step, start)
print(f"Newton: {newton_steps} step(s) to w = {newton_w:.8f}")
print(f"gradient descent (α = 0.1): {gd_steps} steps to w = {gd_w:.8f}")

# %% [markdown]
# ## Logistic regression: quadratic convergence
#
# On a cost that is not a quadratic Newton needs several steps, but near the minimum the
# error is roughly *squared* at every step (**quadratic convergence**: the number of correct
# digits doubles), while gradient descent removes a constant fraction of it
# (**linear convergence**). Logistic regression on the moons data with a small L2 penalty
# $\frac{\lambda}{2}\lVert w\rVert^2$ (so the minimum is unique), with a bias column:

# %%
Xm, ym = make_moons(200, noise=0.2, seed=1)
Xb = np.hstack([Xm, np.ones((len(Xm), 1))])
lam = 0.01


def logistic_cost(w):
    z = tg.Tensor(Xb) @ w
    return tg.functional.binary_cross_entropy_with_logits(z, ym.astype(float)) + \
        lam / 2 * (w * w).sum()


def run(step, n):
    w = tg.Tensor(np.zeros(3), requires_grad=True)
    costs = [logistic_cost(w).item()]
    for _ in range(n):
        w = step(w)
        costs.append(logistic_cost(w).item())
    return w, np.array(costs)


def logistic_gd_step(w, lr=1.0):
    g, = tg.grad(logistic_cost(w), w)
    return tg.Tensor(w.data - lr * g, requires_grad=True)


w_newton, newton_costs = run(lambda w: newton_step(logistic_cost, w), 8)
w_gd, gd_costs = run(logistic_gd_step, 200)
best = min(newton_costs.min(), gd_costs.min())
print("Newton's cost per step:", np.array2string(newton_costs, precision=12))
print(f"gradient descent after 200 steps: {gd_costs[-1]:.12f} (best {best:.12f})")

plt.figure(figsize=(7, 4))
plt.semilogy(newton_costs - best + 1e-17, "o-", label="Newton's method")
plt.semilogy(gd_costs - best + 1e-17, label="gradient descent, α = 1")
plt.xlabel("step")
plt.ylabel("J(w) − J*")
plt.ylim(1e-16, 1)
plt.title("Logistic regression on the moons data")
plt.legend()
plt.show()


def steps_below(costs, tol=1e-10):
    return int(np.argmax(costs - best < tol)) if (costs - best < tol).any() else len(costs)


newton_k, gd_k = steps_below(newton_costs), steps_below(gd_costs)
print(f"steps to J − J* < 1e-10: Newton {newton_k}, gradient descent {gd_k}")

# %% [markdown]
# Each Newton step costs more (here 3 backward passes for the Hessian, and a solve with an
# $n \times n$ matrix), so for networks with millions of parameters the full Hessian is out
# of reach. What stays cheap is the product of the Hessian with a vector.

# %% [markdown]
# ## A Hessian-vector product, checked against finite differences
#
# $Hv$ is the directional derivative of the gradient: $Hv = \frac{d}{d\varepsilon}
# \nabla J(w + \varepsilon v)$. Autograd gets it by differentiating $\nabla J \cdot v$ once
# more, at the cost of about two backward passes, without ever forming $H$ (`hvp`). The
# course's gradient check, one level up: compare with the centred difference
# $\frac{\nabla J(w + \varepsilon v) - \nabla J(w - \varepsilon v)}{2\varepsilon}$.

# %%
w_check = tg.Tensor(np.array([0.3, -1.2, 0.5]))
v = np.array([1.0, 2.0, -1.0])
_, Hv = hvp(logistic_cost, w_check, v)


def gradient(values):
    w = tg.Tensor(values, requires_grad=True)
    return tg.grad(logistic_cost(w), w)[0]


eps = 1e-6
Hv_numeric = (gradient(w_check.data + eps * v) - gradient(w_check.data - eps * v)) / (2 * eps)
difference = np.linalg.norm(Hv.numpy() - Hv_numeric) / (
    np.linalg.norm(Hv.numpy()) + np.linalg.norm(Hv_numeric))
print("Hv (autograd):          ", Hv.numpy())
print("Hv (finite differences):", Hv_numeric)
print(f"relative difference {difference:.2e}")

# %% [markdown]
# `tg.gradgradcheck` runs the same check on every element, for any function of tensors:
# the second derivatives from autograd against finite differences of the first.

# %%
print(tg.gradgradcheck(logistic_cost, [tg.Tensor(np.array([0.3, -1.2, 0.5]),
                                                 requires_grad=True)]))

# %% [markdown]
# ## Summary
#
# * With `create_graph=True` the backward pass is recorded: gradients are tensors with a
#   graph, and can be drawn and differentiated again.
# * `hessian` builds the matrix of second derivatives for small problems; `hvp` gives
#   $Hv$ for any size at the cost of about two backward passes.
# * Newton's method uses the curvature: one step on a quadratic, quadratic convergence
#   near the minimum, where gradient descent converges linearly.

# %%
assert (da.item(), db.item(), dc.item()) == (3.0, 6.0, 9.0)
assert d2_dc == 3.0 and d2_db is None and d_seed == 6.0
assert np.allclose(H_mse, 2 / len(X) * X.T @ X)
assert newton_steps == 1 and abs(newton_w - 5) < 1e-9 and gd_steps > 50
assert newton_k < 10 < gd_k
assert difference < 1e-7
print(f"lesson checks passed: Newton {newton_k} steps vs gradient descent {gd_k}; "
      f"HVP relative difference {difference:.1e}")
