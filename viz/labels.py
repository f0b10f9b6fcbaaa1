"""The text inside a drawing: values, gradients, formulas and node kinds, escaped for DOT.

Node and edge labels are Graphviz HTML-like labels, so every piece of user text (a name, a
value such as ``-inf`` or a formula with ``<``) goes through :func:`esc`.
"""

from __future__ import annotations

import html
import re

import numpy as np

from tinygrad_ng.tensor import Tensor

#: Arrays up to this many elements are printed whole on nodes; bigger ones are summarised.
WHOLE_NODE_VALUES = 16
#: The same limit for the gradients printed on edges (they would crowd the picture).
WHOLE_EDGE_VALUES = 4

GRAD_COLOR = "#b91c1c"
MUTED_COLOR = "#64748b"


# Characters XML (so an HTML-like label) cannot hold: C0 controls but tab and newline,
# surrogates and U+FFFE/U+FFFF. They are shown as \xNN / \uNNNN escapes instead.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def visible(text: str) -> str:
    """``text`` with characters that labels cannot hold written as escapes."""
    return _UNPRINTABLE.sub(lambda m: repr(m.group())[1:-1], text)


def esc(text: str) -> str:
    """Escape text for a Graphviz HTML-like label."""
    return html.escape(visible(text), quote=True)


def lines(text: str) -> str:
    """Escape multi-line text, keeping each line left-aligned."""
    return '<BR ALIGN="LEFT"/>'.join(esc(line) for line in text.split("\n"))


def number(x: float) -> str:
    """A short, exact-looking number: 6.0 → ``6``, 0.333333 → ``0.3333``."""
    return f"{x:.4g}"


def _scalar(x) -> str:
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (np.integer, int)):
        return str(int(x))
    return number(float(x))


def _nested(items: list, ndim: int, indent: int = 1) -> str:
    """``[[1, 2],\n [3, 4]]``: a small array (from ``tolist()``), one row per line."""
    if ndim == 1:
        return "[" + ", ".join(_scalar(x) for x in items) + "]"
    sep = "," + "\n" * (ndim - 1) + " " * indent
    return "[" + sep.join(_nested(x, ndim - 1, indent + 1) for x in items) + "]"


def array_text(a: np.ndarray, whole: int = WHOLE_NODE_VALUES) -> str:
    """The array itself when it has at most ``whole`` elements, else mean/min/max."""
    a = np.asarray(a)
    if a.size == 0:
        return "empty"
    if a.ndim == 0:
        return _scalar(a.item())
    if a.size <= whole:
        return _nested(a.tolist(), a.ndim)
    with np.errstate(all="ignore"):
        f = a.astype(np.float64)
        return f"mean {number(f.mean())}, min {number(f.min())}, max {number(f.max())}"


def shape_text(t: Tensor) -> str:
    shape = "scalar" if t.ndim == 0 else "×".join(str(n) for n in t.shape)
    return f"{shape} {t.dtype.name}"


# ----------------------------------------------------------------------------- node kinds
OP, INPUT, PARAMETER, CONSTANT = "op", "input", "leaf (requires grad)", "constant"


def kind(t: Tensor) -> str:
    """What a node is: an op's output, or a leaf that is a parameter, an input or a constant.

    A leaf that requires grad is (usually) a parameter; an unnamed one-element leaf that does
    not is a constant such as the ``3`` of ``3 * v``; any other leaf is input data.
    """
    if t._ctx is not None:
        return OP
    if t.requires_grad:
        return PARAMETER
    if t.name is None and t.data.size == 1:
        return CONSTANT
    return INPUT


def operand(t: Tensor) -> str | None:
    """How a tensor is referred to in formulas: its name, its value if a constant, or None."""
    if t.name:
        return t.name
    if kind(t) == CONSTANT:
        text = _scalar(t.data.reshape(()).item())
        return f"({text})" if text.startswith("-") else text
    return None


#: Binary ops written as operators in node titles.
INFIX = {"add": "+", "sub": "−", "mul": "·", "div": "/", "pow": "^", "matmul": "@"}


def title(t: Tensor) -> str:
    """Headline of a node: ``u = mul(b, c)`` for a named op output, the name for a leaf."""
    if t._ctx is None:
        return t.name or (array_text(t.data) if kind(t) == CONSTANT else kind(t))
    ctx = t._ctx
    args = [operand(p) for p in ctx.parents if isinstance(p, Tensor)]
    kwargs = getattr(ctx, "kwargs", {})
    if ctx.op_name in INFIX and len(args) == 2 and all(args) and not kwargs:
        call = f" {INFIX[ctx.op_name]} ".join(args)  # the course writes u = b·c, v = a + u
        return f"{t.name} = {call}" if t.name else call
    parts = [a or "·" for a in args] if any(args) else []
    parts += [f"{k}={_short(v)}" for k, v in kwargs.items()
              if v is not None and v is not False and _short(v)]
    call = f"{ctx.op_name}({', '.join(parts)})" if parts else ctx.op_name
    return f"{t.name} = {call}" if t.name else call


def _short(v) -> str:
    text = repr(v.item() if isinstance(v, np.generic) else v)
    return "" if isinstance(v, np.ndarray) or len(text) > 24 else text


# ----------------------------------------------------------------------------- edge formulas
_ASCII_WORD = "A-Za-z0-9_"


def edge_formula(child: Tensor, slot: int) -> str | None:
    """The local derivative ∂child/∂(argument ``slot`` of its op), in the graph's own names.

    ``Mul`` declares ``∂/∂a = b``; for ``u = b·c`` the edge from ``b`` reads ``∂u/∂b = c``.
    Names are substituted only when every tensor argument of the op has one (otherwise the
    op's own notation is kept, which cannot be mistaken for the user's names).
    """
    ctx = child._ctx
    cls = type(ctx)
    if not cls.derivatives:
        return None
    formula = cls.derivatives[min(slot, len(cls.derivatives) - 1)]
    named = {i: operand(p) for i, p in enumerate(ctx.parents) if isinstance(p, Tensor)}
    if max(named) >= len(cls.inputs) or not all(named.values()):
        return f"∂/∂{cls.inputs[min(slot, len(cls.inputs) - 1)]} = {formula}"
    mapping = {cls.inputs[i]: name for i, name in named.items()}
    pattern = "|".join(re.escape(n) for n in sorted(mapping, key=len, reverse=True))
    formula = re.sub(f"(?<![{_ASCII_WORD}])({pattern})(?![{_ASCII_WORD}])",
                     lambda m: mapping[m.group(1)], formula)
    return f"∂{child.name or ''}/∂{named[slot]} = {formula}"
