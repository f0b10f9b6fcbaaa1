"""The kernels and the printed names of ``tg.jit``'s tapes.

A *kernel* replays one op as NumPy calls writing into the tape's arrays (``out=``), the same
calls in the same order as the op's own ``forward``/``backward``, so the bits are the same.
``FORWARD[cls](compiler, node)`` emits the forward and returns True (False: use the op's own
``forward``); ``BACKWARD[cls](compiler, node, g)`` emits the backward and returns one
gradient array per argument (None where none is needed), or None to use the op's own
``backward``. An op without a kernel is replayed by calling its methods, which is correct
for any op, only slower.

:class:`Names` gives each value its name in the course's notation (``X``, ``W1``, ``Z1``,
``A1``, ``J``; gradients ``dZ1``, ``dW1``) and writes the lines of ``step.tape()``.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any

import numpy as np

from . import functional as F
from . import ops
from .tensor import Tensor

FORWARD: dict[type, Any] = {}
BACKWARD: dict[type, Any] = {}


def _kernel(table: dict, *classes: type):
    """A decorator putting the kernel in ``table`` for each of ``classes``."""
    def register(fn):
        table.update(dict.fromkeys(classes, fn))
        return fn
    return register


def _forward(*classes: type):
    return _kernel(FORWARD, *classes)


def _backward(*classes: type):
    return _kernel(BACKWARD, *classes)


def _out(c: Any, node: Any) -> np.ndarray:
    node.out = np.empty_like(node.out_t.data)
    node.fast = True
    return node.out


def _arrays(node: Any) -> bool:
    return all(isinstance(a, np.ndarray) for a in node.ins)


# ------------------------------------------------------------------------------ elementwise
_BINARY = {ops.Add: np.add, ops.Sub: np.subtract, ops.Mul: np.multiply, ops.Div: np.divide}
_UNARY = {ops.Neg: np.negative, ops.Exp: np.exp, ops.Log: np.log, F.ReLU: None,
          F.Tanh: np.tanh}


@_forward(*_BINARY)
def _binary_forward(c, node) -> bool:
    if node.kw or not _arrays(node):
        return False
    a, b = node.ins
    c.emit(_BINARY[node.cls], a, b, _out(c, node))
    return True


@_forward(*_UNARY)
def _unary_forward(c, node) -> bool:
    if node.kw or not _arrays(node):
        return False
    (x,) = node.ins
    out = _out(c, node)
    if node.cls is F.ReLU:
        c.emit(functools.partial(np.maximum, out=out), x, 0)
    else:
        c.emit(_UNARY[node.cls], x, out)
    return True


def _product(c, ufunc: Any, a: Any, b: Any) -> np.ndarray:
    """A fresh array holding ``ufunc(a, b)``, emitted."""
    out = c.like(ufunc(a, b))
    c.emit(ufunc, a, b, out)
    return out


@_backward(ops.Add)
def _add_backward(c, node, g):
    return [g, g]


@_backward(ops.Sub)
def _sub_backward(c, node, g):
    neg = None
    if node.needs[1]:
        neg = c.like(np.negative(g))
        c.emit(np.negative, g, neg)
    return [g, neg]


@_backward(ops.Mul)
def _mul_backward(c, node, g):
    a, b = node.ins
    need_a, need_b = node.needs
    return [_product(c, np.multiply, g, b) if need_a else None,
            _product(c, np.multiply, g, a) if need_b else None]


@_backward(ops.Div)
def _div_backward(c, node, g):
    a, b = node.ins
    ga = _product(c, np.divide, g, b)  # ga = g/b;  gb = −ga·out
    gb = None
    if node.needs[1]:
        neg = c.like(np.negative(ga))
        c.emit(np.negative, ga, neg)
        gb = _product(c, np.multiply, neg, node.out)
    return [ga, gb]


@_backward(ops.Neg)
def _neg_backward(c, node, g):
    out = c.like(np.negative(g))
    c.emit(np.negative, g, out)
    return [out]


@_backward(ops.Exp)
def _exp_backward(c, node, g):
    return [_product(c, np.multiply, g, node.out)]


@_backward(ops.Log)
def _log_backward(c, node, g):
    return [_product(c, np.divide, g, node.ins[0])]


@_backward(F.ReLU)
def _relu_backward(c, node, g):
    mask = np.empty(node.out.shape, bool)
    c.emit(np.greater, node.out, 0, mask)  # g·[a > 0]
    return [_product(c, np.multiply, g, mask)]


@_backward(F.Tanh)
def _tanh_backward(c, node, g):
    a = node.out
    t = _product(c, np.multiply, a, a)  # g·(1 − a·a)
    c.emit(np.subtract, 1, t, t)
    return [_product(c, np.multiply, g, t)]


@_forward(F.Sigmoid)
def _sigmoid_forward(c, node) -> bool:
    """σ(z) = where(z ≥ 0, 1, e)/(1 + e) with e = exp(−|z|), as ``_stable_sigmoid``."""
    (z,) = node.ins
    if not isinstance(z, np.ndarray) or z.dtype.kind != "f" or node.out_t.dtype != z.dtype:
        return False
    out = _out(c, node)
    e, num, den = np.empty_like(z), np.empty_like(z), np.empty_like(z)
    positive = np.empty(z.shape, bool)
    c.emit(np.abs, z, e)
    c.emit(np.negative, e, e)
    c.emit(np.exp, e, e)
    c.emit(np.greater_equal, z, 0, positive)
    c.emit(np.copyto, num, e)
    c.emit(np.copyto, num, 1, "unsafe", positive)
    c.emit(np.add, 1, e, den)
    c.emit(np.divide, num, den, out)
    return True


@_backward(F.Sigmoid)
def _sigmoid_backward(c, node, g):
    a = node.out  # g·a·(1 − a), multiplied left to right
    ga = _product(c, np.multiply, g, a)
    one_minus = _product(c, np.subtract, 1, a)
    return [_product(c, np.multiply, ga, one_minus)]


# ------------------------------------------------------------------------------ products
@_forward(F.Linear)
def _linear_forward(c, node) -> bool:
    """Z = X·Wᵀ + b (in place), for a 2-D X of the weight's dtype."""
    x, w, b = node.ins
    z_t = node.out_t.data
    if (not isinstance(x, np.ndarray) or x.ndim != 2 or w.ndim != 2 or z_t.dtype != w.dtype
            or (b is not None and np.result_type(z_t, b) != z_t.dtype)):
        return False
    z = _out(c, node)
    c.emit(np.matmul, x, w.T, z)
    if b is not None:
        c.emit(np.add, z, b, z)
    return True


@_backward(F.Linear)
def _linear_backward(c, node, g):
    """dX = dZ·W, dW = dZᵀ·X, db = Σᵢ dZ⁽ⁱ⁾."""
    x, w, _ = node.ins
    need_x, need_w, need_b = node.needs
    dx = dw = db = None
    if need_x:
        dx = c.new(np.empty((), np.result_type(g, w)), (g.shape[0], w.shape[1]))
        c.emit(np.matmul, g, w, dx)
    if need_w:
        dw = c.new(np.empty((), np.result_type(g, x)), w.shape)
        c.emit(np.matmul, g.T, x, dw)
    if need_b:
        db = c.new(g, (g.shape[1],))
        c.emit(np.add.reduce, g, 0, None, db, False)
    return [dx, dw, db]


@_forward(ops.MatMul)
def _matmul_forward(c, node) -> bool:
    a, b = node.ins
    if not _arrays(node) or a.ndim != 2 or b.ndim != 2:
        return False
    c.emit(np.matmul, a, b, _out(c, node))
    return True


@_backward(ops.MatMul)
def _matmul_backward(c, node, g):
    """dA = g·Bᵀ, dB = Aᵀ·g."""
    a, b = node.ins
    need_a, need_b = node.needs
    ga = gb = None
    if need_a:
        ga = c.new(np.empty((), np.result_type(g, b)), a.shape)
        c.emit(np.matmul, g, b.T, ga)
    if need_b:
        gb = c.new(np.empty((), np.result_type(a, g)), b.shape)
        c.emit(np.matmul, a.T, g, gb)
    return [ga, gb]


# ------------------------------------------------------------------------------ losses
def _mean_or_sum(c, node, losses: np.ndarray) -> None:
    """The cost from the per-example losses, as ``_reduce``: Σ, then / m for 'mean'."""
    out = _out(c, node)
    c.emit(np.add.reduce, losses, None, None, out, False)
    if node.kw.get("reduction", "mean") == "mean":
        c.emit(np.divide, out, max(losses.size, 1), out)


def _scaled(c, node, g: np.ndarray, shape: tuple) -> np.ndarray:
    """∂J/∂L⁽ⁱ⁾ as ``_reduce_backward``: g/m for 'mean', g for 'sum'."""
    if node.kw.get("reduction", "mean") != "mean":
        return g
    gm = c.new(g)
    m = max(int(np.prod(shape)), 1)
    if id(g) in c.constants:  # the seed ∂J/∂J = 1: g/m is a constant too, computed once
        np.divide(g, m, gm)
        c.constants.add(id(gm))
    else:
        c.emit(np.divide, g, m, gm)
    return gm


@_forward(F.CrossEntropy)
def _cross_entropy_forward(c, node) -> bool:
    """Class indices along the last axis of 2-D logits, no label smoothing."""
    z, y = node.ins
    kw = node.kw
    if (not _arrays(node) or z.ndim != 2 or y.dtype.kind not in "iu" or node.needs[1]
            or kw.get("axis") != 1 or kw.get("reduction", "mean") == "none"
            or kw.get("label_smoothing", 0.0) or z.dtype.kind != "f"):
        return False
    m, k = z.shape
    logp, top, total = np.empty_like(z), np.empty((m, 1), z.dtype), np.empty((m, 1), z.dtype)
    c.emit(np.maximum.reduce, z, 1, None, top, True)  # log softmax, max-shifted
    c.emit(np.subtract, z, top, logp)
    c.emit(np.exp, logp, total := np.empty_like(z))
    sums = np.empty((m, 1), z.dtype)
    c.emit(np.add.reduce, total, 1, None, sums, True)
    c.emit(np.log, sums, sums)
    c.emit(np.subtract, logp, sums, logp)
    flat = np.empty(m, np.intp)  # the picked entries, row i·k + yᵢ of the flat logp
    c.emit(np.add, np.arange(m) * k, y, flat)
    picked = np.empty(m, z.dtype)
    c.emit(np.take, logp.reshape(-1), flat, None, picked)
    c.emit(np.multiply, picked, -1.0, picked)  # (picked · −(1 − ε))
    _mean_or_sum(c, node, picked)
    node.extra = (logp, flat)
    return True


def _minus_at(flat: np.ndarray, index: np.ndarray, value: float) -> None:
    flat[index] -= value


@_backward(F.CrossEntropy)
def _cross_entropy_backward(c, node, g):
    """dZ = (softmax(Z) − Y)·g/m: exp(log Ŷ), minus 1 at each example's class."""
    if not node.fast:
        return None
    logp, flat = node.extra
    gm = _scaled(c, node, g, (logp.shape[0],))
    dz = c.new(logp)
    c.emit(np.exp, logp, dz)
    c.emit(_minus_at, dz.reshape(-1), flat, 1.0)
    c.emit(np.multiply, dz, gm, dz)
    return [dz, None]


def _clamped_log(p: np.ndarray, out: np.ndarray) -> None:
    """log p floored at −100, as the loss's ``_clamped_log``."""
    with np.errstate(divide="ignore"):
        np.log(p, out=out)
    np.maximum(out, -100, out=out)


@_forward(F.BinaryCrossEntropy)
def _bce_forward(c, node) -> bool:
    """L = −[y log a + (1 − y) log(1 − a)], reduced; for y of a's dtype."""
    a, y = node.ins
    if (not _arrays(node) or y.dtype != a.dtype or a.dtype.kind != "f" or node.needs[1]
            or node.kw.get("reduction", "mean") == "none"):
        return False
    log_a, log_b, one_minus_a, one_minus_y = (np.empty_like(a) for _ in range(4))
    c.emit(_clamped_log, a, log_a)
    c.emit(np.multiply, y, log_a, log_a)
    c.emit(np.subtract, 1, a, one_minus_a)
    c.emit(_clamped_log, one_minus_a, log_b)
    c.emit(np.subtract, 1, y, one_minus_y)
    c.emit(np.multiply, one_minus_y, log_b, log_b)
    c.emit(np.add, log_a, log_b, log_a)
    c.emit(np.negative, log_a, log_a)
    _mean_or_sum(c, node, log_a)
    return True


@_backward(F.BinaryCrossEntropy)
def _bce_backward(c, node, g):
    """∂L/∂a = (a − y)/max(a(1 − a), 1e-12), times g/m."""
    if not node.fast:
        return None
    a, y = node.ins
    gm = _scaled(c, node, g, a.shape)
    diff, den = c.like(a - y), np.empty_like(a)
    c.emit(np.subtract, a, y, diff)
    c.emit(np.subtract, 1, a, den)
    c.emit(np.multiply, a, den, den)
    c.emit(functools.partial(np.maximum, out=den), den, 1e-12)
    c.emit(np.divide, diff, den, diff)
    c.emit(np.multiply, gm, diff, diff)
    return [diff, None]


# ------------------------------------------------------------------------------ views
@_backward(ops.Reshape)
def _reshape_backward(c, node, g):
    view = g.reshape(node.rctx.shape)
    return [view] if np.may_share_memory(view, g) else None


@_backward(ops.Transpose)
def _transpose_backward(c, node, g):
    return [g.transpose(tuple(np.argsort(node.rctx.axes)))]


# ============================================================================== names
_SUPER = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


class Names:
    """The name of every array of a tape, and the tape's printed lines."""

    def __init__(self) -> None:
        self.of: dict[int, str] = {}
        self.taken: set[str] = set()  # the names given so far
        self.layer = 0  # Linear layers seen so far (W1, W2, …)
        self.count: dict[str, int] = {}
        self.grads: dict[int, int] = {}  # id(tensor) -> gradients named so far

    def name(self, a: Any) -> str:
        if a is None:
            return "·"
        n = self.of.get(id(a))
        if n is not None:
            return n
        if isinstance(a, np.ndarray) and a.ndim == 0:
            return f"{a.item():g}"
        if isinstance(a, (int, float)):
            return f"{a:g}"
        return self.fresh_name(a, "C")

    def fresh_name(self, a: Any, stem: str) -> str:
        k = self.count[stem] = self.count.get(stem, 0) + 1
        self.of[id(a)] = n = f"{stem}{k}"
        self.taken.add(n)
        return n

    def give(self, a: Any, name: str) -> str:
        """Name ``a`` (primed when the name is taken: A1, A1′)."""
        while name in self.taken:
            name += "′"
        self.of[id(a)] = name
        self.taken.add(name)
        return name

    # ---------------------------------------------------------------- values
    def input(self, buf: np.ndarray, a: Any, argname: str) -> None:
        self.give(buf, getattr(a, "name", None) or argname)

    def leaf(self, t: Any, arr: np.ndarray) -> None:
        if t.name and id(arr) not in self.of:
            self.give(arr, t.name)

    def alias(self, buf: np.ndarray, src: np.ndarray) -> None:
        self.of[id(buf)] = self.name(src)

    def op(self, c: Any, node: Any) -> None:
        cls, ins, out = node.cls, node.ins, node.out
        stem = _STEMS.get(cls)
        if cls is F.Linear:
            self.layer += 1
            x, w, b = ins
            for arr, stem_ in ((w, "W"), (b, "b")):
                if arr is not None and id(arr) not in self.of:
                    self.give(arr, f"{stem_}{self.layer}")
            name = self.give(out, f"Z{self.layer}")
            bias = "" if b is None else f" + {self.name(b)}"
            c.line("forward", f"{name} = {self.name(x)} @ {self.name(w)}ᵀ{bias}", out)
            return
        src = self.name(ins[0]) if ins else ""
        layer = re.fullmatch(r"Z\D*(\d+)′*", src)  # Z1, Z̃1: layer 1
        if stem == "A" and layer:
            name = self.give(out, "A" + layer.group(1))
        elif cls is F.BatchNorm and layer:
            k = layer.group(1)
            for arr, stem_ in ((ins[1], "γ"), (ins[2], "β")):
                if arr is not None and id(arr) not in self.of:
                    self.give(arr, f"{stem_}{k}")
            name = self.give(out, "Z̃" + k)
        elif cls is F.Dropout:
            name = self.give(out, src)
        elif stem == "J":
            name = self.give(out, "J")
        elif id(out) in self.of:  # a view the tape shares with its input
            return
        else:
            name = self.fresh_name(out, "t")
        args = self.arg_names(node)
        text = _FORMS.get(cls, lambda a, n: f"{n.cls.op or n.cls.__name__}({', '.join(a)})")
        c.line("forward", f"{name} = {text(args, node)}", out)

    def arg_names(self, node: Any) -> list[str]:
        """The names of an op's array arguments, then of its array keywords (a mask)."""
        arrays = [a for a in node.ins if isinstance(a, np.ndarray)]
        arrays += [v for v in node.kw.values() if isinstance(v, np.ndarray)]
        return [self.name(a) for a in arrays]

    def compare(self, c: Any, ufunc: Any, a: Any, other: Any, buf: np.ndarray) -> None:
        name = self.fresh_name(buf, "M")
        sign = _COMPARE.get(ufunc.__name__, ufunc.__name__)
        o = self.name(c.value(other) if isinstance(other, Tensor) else np.asarray(other))
        c.line("forward", f"{name} = [{self.name(c.value(a))} {sign} {o}]", buf)

    def mask(self, c: Any, buf: np.ndarray, shape: tuple, keep_prob: float) -> None:
        name = self.fresh_name(buf, "D")
        c.line("forward", f"{name} = rand{shape} < {keep_prob:g}    (drawn again each step)",
               buf)

    # ---------------------------------------------------------------- gradients
    def grad(self, t: Any, arr: np.ndarray, c: Any) -> str:
        """Name the gradient ``arr`` of tensor ``t`` (dZ1; dZ1′ for a second path)."""
        base = "d" + self.name(c.values.get(id(t), t.data))
        return self.give(arr, base)

    def seed(self, c: Any, root: Any, seed: np.ndarray) -> None:
        name = self.grad(root, seed, c)
        value = "1" if seed.size == 1 and seed.flat[0] == 1 else "given"
        c.line("backward", f"{name} = {value}", seed)

    def generic_backward(self, c: Any, node: Any, g: np.ndarray, grads: list) -> None:
        for i, (arg, gi) in enumerate(zip(node.args, grads)):
            if gi is None or id(gi) in self.of:  # (passed through: it has its name)
                continue
            name = self.grad(arg, gi, c)
            c.line("backward", f"{name} = {self.local(c, node, g, i)}", gi)

    def local(self, c: Any, node: Any, g: np.ndarray, i: int) -> str:
        """The backward formula of input ``i`` of ``node``, in the tape's names."""
        special = _BACKWARD_FORMS.get(node.cls)
        names = self.arg_names(node)
        if special is not None:
            text = special(names, self.name(node.out), self.name(g), i)
            if text is not None:
                return text
        formula = node.cls.derivatives[i] if i < len(node.cls.derivatives) else "∂"
        subs = dict(zip(node.cls.inputs, names))
        if node.cls.output:
            subs[node.cls.output] = self.name(node.out)
        formula = re.sub(r"(?<![\wᵀ])(" + "|".join(map(re.escape, subs)) + r")(?![\w])",
                         lambda m: subs[m.group(1)], formula) if subs else formula
        return f"{self.name(g)} * {formula}" if formula != "1" else self.name(g)

    def total(self, c: Any, t: Any, contribs: list, acc: np.ndarray) -> None:
        name = self.grad(t, acc, c)
        c.line("backward", f"{name} = {' + '.join(self.name(x) for x in contribs)}", acc)

    def conform(self, c: Any, parent: Any, before: np.ndarray, g: np.ndarray) -> None:
        name = self.grad(parent, g, c)
        c.line("backward", f"{name} = Σ {self.name(before)} over the broadcast axes", g)

    def update(self, c: Any, opt: Any) -> None:
        kind = type(opt).__name__
        rule, each = _UPDATES.get(kind, ("", "{p} -= {kind}.update(d{p})"))
        if rule:
            c.line("update", f"{kind}: {rule}")
        for group in opt.param_groups:
            for p in group["params"]:
                name = self.name(c.values.get(id(p), p.data))
                c.line("update", each.format(p=name, kind=kind), p.data)


_STEMS = {F.ReLU: "A", F.Sigmoid: "A", F.Tanh: "A", F.LeakyReLU: "A", F.Softmax: "A",
          F.CrossEntropy: "J", F.BinaryCrossEntropy: "J", F.BinaryCrossEntropyWithLogits: "J",
          F.MSELoss: "J"}
_COMPARE = {"greater": ">", "less": "<", "greater_equal": "≥", "less_equal": "≤",
            "equal": "=", "not_equal": "≠"}
_FORMS = {
    ops.Add: lambda a, n: f"{a[0]} + {a[1]}", ops.Sub: lambda a, n: f"{a[0]} − {a[1]}",
    ops.Mul: lambda a, n: f"{a[0]} * {a[1]}", ops.Div: lambda a, n: f"{a[0]} / {a[1]}",
    ops.MatMul: lambda a, n: f"{a[0]} @ {a[1]}", ops.Neg: lambda a, n: f"−{a[0]}",
    ops.Exp: lambda a, n: f"exp({a[0]})", ops.Log: lambda a, n: f"log({a[0]})",
    F.ReLU: lambda a, n: f"relu({a[0]})", F.Sigmoid: lambda a, n: f"σ({a[0]})",
    F.Tanh: lambda a, n: f"tanh({a[0]})",
    F.CrossEntropy: lambda a, n: f"−1/m Σ log softmax({a[0]})[{a[1]}]",
    F.BinaryCrossEntropy: lambda a, n: (f"−1/m Σ [{a[1]} log {a[0]} + (1 − {a[1]}) "
                                        f"log(1 − {a[0]})]"),
    F.BinaryCrossEntropyWithLogits: lambda a, n: (f"−1/m Σ [{a[1]} log σ({a[0]}) + "
                                                  f"(1 − {a[1]}) log(1 − σ({a[0]}))]"),
    F.MSELoss: lambda a, n: f"1/m Σ ({a[0]} − {a[1]})²",
    F.BatchNorm: lambda a, n: (f"{a[1] if len(a) > 1 else '1'} * ({a[0]} − μ)/√(σ² + ε)"
                               + (f" + {a[2]}" if len(a) > 2 else "")),
    F.Dropout: lambda a, n: f"{a[0]} * {a[1]} / {_keep_prob(n.kw['scale']):g}",
}


def _keep_prob(scale: float) -> float:
    return 1 / scale if scale else 0.0
_BACKWARD_FORMS = {
    F.Linear: lambda a, o, g, i: (f"{g} @ {a[1]}", f"{g}ᵀ @ {a[0]}", f"Σᵢ {g}")[i],
    ops.MatMul: lambda a, o, g, i: (f"{g} @ {a[1]}ᵀ", f"{a[0]}ᵀ @ {g}")[i],
    ops.Add: lambda a, o, g, i: g,
    ops.Sub: lambda a, o, g, i: (g, f"−{g}")[i],
    F.ReLU: lambda a, o, g, i: f"{g} * [{a[0]} > 0]",
    F.Sigmoid: lambda a, o, g, i: f"{g} * {o}(1 − {o})",
    F.Tanh: lambda a, o, g, i: f"{g} * (1 − {o}²)",
    F.Dropout: lambda a, o, g, i: f"{g} * {a[1]} / keep_prob",
    F.BatchNorm: lambda a, o, g, i: (
        f"{a[1]}/√(σ² + ε) * ({g} − (Σᵢ {g} + z_norm * Σᵢ {g} * z_norm)/m)",
        f"Σᵢ {g} * z_norm", f"Σᵢ {g}")[i],
    F.CrossEntropy: lambda a, o, g, i: (f"{g} * (softmax({a[0]}) − {a[1]})/m"
                                        if i == 0 else None),
    F.BinaryCrossEntropyWithLogits: lambda a, o, g, i: (f"{g} * (σ({a[0]}) − {a[1]})/m"
                                                        if i == 0 else None),
}
_UPDATES = {  # optimiser -> (its rule, the line of each parameter)
    "SGD": ("", "{p} -= α·d{p}"),
    "Momentum": ("v = β·v + (1 − β)·dW", "{p} -= α·v_d{p}"),
    "RMSprop": ("S = β₂·S + (1 − β₂)·dW²", "{p} -= α·d{p}/(√S_d{p} + ε)"),
    "Adam": ("V = β₁V + (1 − β₁)dW,  S = β₂S + (1 − β₂)dW²,  V̂ = V/(1 − β₁ᵗ),  "
             "Ŝ = S/(1 − β₂ᵗ)", "{p} -= α·V̂_d{p}/(√Ŝ_d{p} + ε)"),
}


def format_listing(lines: list[tuple[str, str, str]]) -> str:
    """The tape's lines under their section titles, shapes in a right-hand column."""
    width = max((_width(text) for _, text, shape in lines if shape), default=0) + 4
    out, section = [], None
    for sec, text, shape in lines:
        if sec != section:
            out.append(f"# {sec}")
            section = sec
        out.append(text + " " * (width - _width(text)) + shape if shape else text)
    return "\n".join(out)


def _width(text: str) -> int:
    """Columns ``text`` takes (a combining accent, as in Z̃, takes none)."""
    return sum(not unicodedata.combining(ch) for ch in text)
