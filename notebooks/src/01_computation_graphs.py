# %% [markdown]
# # 1. Computation graphs and derivatives
#
# *Course 1, week 2: "Computation graph" and "Derivatives with a computation graph".*
#
# A neural network is trained by nudging its parameters in the direction that lowers a
# cost $J$. To know that direction we need the derivatives of $J$ with respect to every
# parameter. Backpropagation computes all of them in one backward sweep over the
# **computation graph**: the record of the elementary operations that produced $J$.
#
# This notebook works through the course's first example by hand, then lets
# `tinygrad_ng` do the same work, draws the graph, and replays the backward sweep one
# node at a time.

# %%
from IPython.display import display

import tinygrad_ng as tg
from tinygrad_ng.viz import backprop_html, backprop_steps, draw_graph

# %% [markdown]
# ## What a derivative says
#
# The derivative $\frac{df}{da}$ is the slope of $f$ at $a$: nudge $a$ by a tiny amount
# and $f$ moves by about slope × nudge. For $f(a) = 3a$ the slope is $3$ everywhere; for
# $f(a) = a^2$ it is $2a$, so it depends on where you stand: at $a = 2$ a nudge of
# $0.001$ moves $a^2$ from $4$ to $4.004001$, about $4 \times 0.001$.

# %%
nudge = 1e-3
for name, f, slope in [("3a", lambda a: 3 * a, lambda a: 3.0),
                       ("a²", lambda a: a**2, lambda a: 2 * a)]:
    a = 2.0
    change = f(a + nudge) - f(a)
    print(f"f(a) = {name:3}: f(2) = {f(a):.6f}, f(2.001) = {f(a + nudge):.6f}, "
          f"change / nudge = {change / nudge:.4f}, slope formula = {slope(a):.4f}")

# %% [markdown]
# ## The course's graph: $J = 3(a + bc)$
#
# Break the computation into steps that each do one thing:
#
# $$u = bc, \qquad v = a + u, \qquad J = 3v.$$
#
# With $a = 5$, $b = 3$, $c = 2$ the **forward pass** (left to right) gives
# $u = 6$, $v = 11$, $J = 33$.
#
# The **backward pass** (right to left) applies the chain rule: the derivative of $J$
# with respect to a node is the derivative with respect to the node it feeds, times the
# local derivative of that step.
#
# $$\frac{dJ}{dv} = 3, \qquad
# \frac{dJ}{du} = \frac{dJ}{dv}\frac{dv}{du} = 3 \cdot 1 = 3, \qquad
# \frac{dJ}{da} = \frac{dJ}{dv}\frac{dv}{da} = 3 \cdot 1 = 3,$$
#
# $$\frac{dJ}{db} = \frac{dJ}{du}\frac{du}{db} = 3c = 6, \qquad
# \frac{dJ}{dc} = \frac{dJ}{du}\frac{du}{dc} = 3b = 9.$$
#
# In code the course abbreviates $\frac{dJ}{dx}$ as `dx` ("d-var"). Here is the whole
# thing in plain Python:

# %%
a, b, c = 5.0, 3.0, 2.0
# forward: compute and remember every intermediate value
u = b * c
v = a + u
J = 3 * v
# backward: one chain-rule step per edge, from the output back to the inputs
dv = 3.0          # dJ/dv: J = 3v
du = dv * 1.0     # dv/du = 1
da = dv * 1.0     # dv/da = 1
db = du * c       # du/db = c
dc = du * b       # du/dc = b
hand = {"a": da, "b": db, "c": dc}
print(f"u = {u}, v = {v}, J = {J}")
print("by hand:", hand)

# %% [markdown]
# ## The same with autograd
#
# A `Tensor` created with `requires_grad=True` records every operation applied to it.
# `J.backward()` walks that record backwards and leaves $\frac{dJ}{dx}$ in `x.grad` for
# every input $x$. We name the tensors so the drawing below can label them, and ask
# `backward` to keep the gradients of the intermediate nodes $u$, $v$ too
# (`retain_grads=True`) and the graph itself (`retain_graph=True`) so it can be drawn.

# %%
ta = tg.Tensor(5.0, requires_grad=True, name="a")
tb = tg.Tensor(3.0, requires_grad=True, name="b")
tc = tg.Tensor(2.0, requires_grad=True, name="c")
tu = tb * tc
tu.name = "u"
tv = ta + tu
tv.name = "v"
tJ = 3 * tv
tJ.name = "J"
print("J =", tJ.item())

tJ.backward(retain_graph=True, retain_grads=True)
auto = {"a": float(ta.grad), "b": float(tb.grad), "c": float(tc.grad)}
print("autograd:", auto, "  dJ/du =", float(tu.grad), "  dJ/dv =", float(tv.grad))

# %% [markdown]
# ## The graph, drawn
#
# `draw_graph` shows each tensor as a node with its value and gradient. The inputs are
# rounded boxes, the results of operations are ellipses, and every edge carries the
# **local derivative** of that step (for $u = bc$: $\partial u / \partial b = c$) and the
# gradient that flowed back along it.

# %%
draw_graph(tJ, title="J = 3(a + bc) after backward()")

# %% [markdown]
# ## Backpropagation one step at a time
#
# `backprop_steps` replays the backward pass as a sequence of drawings. Frame $k$ shows
# the first $k$ gradients (the others still read `?`); its caption writes out the
# chain-rule product that produced the highlighted one. Backpropagation visits the nodes
# in reverse topological order, so every gradient is complete before it is passed on.

# %%
frames = list(backprop_steps(tJ))
for frame in frames:
    display(frame)

# %% [markdown]
# ## Step through it yourself
#
# `backprop_html` turns the same replay into a small interactive page: press **Step**
# (or the → key) to complete one more gradient, **Back** to undo, **Play** to run it all,
# or drag the slider. The node being processed is outlined in orange with the edges its
# gradient came along, and the caption writes the chain rule with numbers, e.g.
# $\frac{\partial J}{\partial b} = \frac{\partial J}{\partial u} \cdot
# \frac{\partial u}{\partial b} = 3 \cdot 2 = 6$. Hover a node to see its value and
# gradient in full. It works on any graph you build (try a model with `names=model`), and
# `page.save("backprop.html")` writes it as one file that opens offline in any browser.

# %%
page = backprop_html(tJ)
display(page)

# %%
for k, caption in enumerate(page.captions(), 1):
    print(f"step {k}: {caption.splitlines()[0]}")

# %% [markdown]
# ## A numerical check of the chain rule
#
# The gradients say: nudge $a$ by $\varepsilon$ and $J$ moves by $3\varepsilon$; nudge
# $b$ and it moves by $6\varepsilon$; nudge $c$ and by $9\varepsilon$. Let's nudge.

# %%
def J_of(a, b, c):
    return 3 * (a + b * c)


eps = 1e-3
base = J_of(5.0, 3.0, 2.0)
numeric = {
    "a": (J_of(5.0 + eps, 3.0, 2.0) - base) / eps,
    "b": (J_of(5.0, 3.0 + eps, 2.0) - base) / eps,
    "c": (J_of(5.0, 3.0, 2.0 + eps) - base) / eps,
}
for name in "abc":
    print(f"dJ/d{name}: hand {hand[name]:.4f}   autograd {auto[name]:.4f}   "
          f"nudge {numeric[name]:.4f}")

# %% [markdown]
# ## Summary
#
# * Forward pass: compute and keep each intermediate value.
# * Backward pass: multiply local derivatives along the edges, from the output back,
#   adding up where a node feeds several others.
# * `backward()` does exactly this for any graph you build from tensors.
#
# The last cell checks the lesson: the values and gradients of $J = 3(a + bc)$ agree
# across hand, autograd and nudging, and the replay has one frame per node that needs a
# gradient ($J, v, u, a, b, c$).

# %%
assert (u, v, J) == (6.0, 11.0, 33.0)
assert hand == auto == {"a": 3.0, "b": 6.0, "c": 9.0}
assert (float(tu.grad), float(tv.grad)) == (3.0, 3.0)
assert all(abs(numeric[k] - hand[k]) < 1e-6 for k in hand)
assert len(frames) == 6 and "step 6 of 6" in frames[-1].source
assert page.steps == 6
assert page.captions()[4].splitlines()[0] == "∂J/∂b = ∂J/∂u · ∂u/∂b = 3 · 2 = 6"
print("lesson checks passed")
