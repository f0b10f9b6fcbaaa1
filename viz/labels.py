"""The text inside a drawing: values, gradients, formulas and node kinds, escaped for DOT.

Node and edge labels are Graphviz HTML-like labels, so every piece of user text (a name, a
value such as ``-inf`` or a formula with ``<``) goes through :func:`esc`.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Mapping

import numpy as np

from tinygrad_ng.tensor import Tensor

from .walk import node_of

#: Arrays up to this many elements are printed whole on nodes; bigger ones are summarised.
WHOLE_NODE_VALUES = 16
#: The same limit for the gradients printed on edges (they would crowd the picture).
WHOLE_EDGE_VALUES = 4

GRAD_COLOR = "#b91c1c"
MUTED_COLOR = "#64748b"


# Characters an HTML-like label cannot hold (Graphviz rejects even tab and CR): C0 controls
# but newline, surrogates and U+FFFE/U+FFFF. They are shown as \xNN / \uNNNN escapes.
_UNPRINTABLE = re.compile("[\x00-\x09\x0b-\x1f\ud800-\udfff\ufffe\uffff]")


def visible(text: str) -> str:
    """``text`` with characters that labels cannot hold written as escapes."""
    return _UNPRINTABLE.sub(lambda m: repr(m.group())[1:-1], text)


def esc(text: str) -> str:
    """Escape text for a Graphviz HTML-like label."""
    return html.escape(visible(text), quote=True)


def lines(text: str) -> str:
    """Escape multi-line text, keeping each line left-aligned."""
    return '<BR ALIGN="LEFT"/>'.join(esc(line) for line in text.split("\n"))


#: Significant digits of the numbers in a drawing.
DIGITS = 4


def number(x: float) -> str:
    """A short, exact-looking number: 6.0 → ``6``, 0.333333 → ``0.3333``, -0.0 → ``0``.

    A float32 value reads as float32 prints it (0.1, not 0.10000000149): rounding to
    :data:`DIGITS` significant digits drops the digits its widening to float64 adds.
    """
    text = f"{x:.{DIGITS}g}"
    return "0" if text == "-0" else text


def _negligible(scale: float) -> float:
    """Magnitudes below half a unit in the last digit shown of ``scale`` (the array's
    largest): next to it they print as 0 (2.776e-17 next to 0.25 is rounding noise)."""
    if not np.isfinite(scale) or scale == 0:
        return 0.0
    return 0.5 * 10.0 ** (np.floor(np.log10(scale)) - (DIGITS - 1))


def _scalar(x) -> str:
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (np.integer, int)):
        return str(int(x))
    return number(float(x))


def _nested(items: list, ndim: int, indent: int = 1) -> str:
    """A small array (from ``tolist()``) with one row per line, as NumPy prints it; a
    column ``[[1], [2], [3]]`` stays on one line."""
    if ndim == 1:
        return "[" + ", ".join(_scalar(x) for x in items) + "]"
    if ndim == 2 and all(len(row) == 1 for row in items):
        return "[" + ", ".join(f"[{_scalar(row[0])}]" for row in items) + "]"
    sep = "," + "\n" * (ndim - 1) + " " * indent
    return "[" + sep.join(_nested(x, ndim - 1, indent + 1) for x in items) + "]"


def _wrap(line: str, width: int = 60) -> str:
    """Break a long line after commas, continuation lines indented by one space."""
    if len(line) <= width:
        return line
    out, current = [], ""
    for piece in line.split(", "):
        if current and len(current) + len(piece) + 2 > width:
            out.append(current + ",")
            current = " " + piece.lstrip()
        else:
            current = f"{current}, {piece}" if current else piece
    return "\n".join(out + [current])


def array_text(a: np.ndarray, whole: int = WHOLE_NODE_VALUES) -> str:
    """The array itself when it has at most ``whole`` elements, else mean/min/max."""
    a = np.asarray(a)
    if a.size == 0:
        return "empty"
    if a.ndim == 0:
        return _scalar(a.item())
    if a.size <= whole:
        if a.dtype.kind == "f":
            with np.errstate(all="ignore"):
                size = np.abs(a)
                a = np.where(size < _negligible(float(np.max(size, where=np.isfinite(a),
                                                             initial=0))), 0, a)
        return "\n".join(_wrap(line) for line in _nested(a.tolist(), a.ndim).split("\n"))
    with np.errstate(all="ignore"):  # the ufuncs' reduce: a third of a.mean()'s overhead
        mean = float(np.add.reduce(a, axis=None, dtype=np.float64)) / a.size
        low, high = np.minimum.reduce(a, axis=None), np.maximum.reduce(a, axis=None)
        if abs(mean) < _negligible(max(abs(float(low)), abs(float(high)))):
            mean = 0.0
    return f"mean {number(mean)}, min {number(low)}, max {number(high)}"


def shape_text(t: Tensor) -> str:
    shape = "scalar" if t.ndim == 0 else "×".join(str(n) for n in t.shape)
    return f"{shape} {t.dtype.name}"


# ----------------------------------------------------------------------------- node kinds
OP, INPUT, PARAMETER, CONSTANT = "op", "input", "leaf (requires grad)", "constant"

#: Binary ops written as operators in node titles.
INFIX = {"add": "+", "sub": "−", "mul": "·", "div": "/", "pow": "^", "matmul": "@"}
_ASCII_WORD = "A-Za-z0-9_"


class Labels:
    """Names, kinds, titles and edge formulas of a graph's nodes.

    A node is called by its ``.name``, else by the name ``names`` gives it (``names`` maps
    ``id(tensor)`` to a name, e.g. from a model's ``named_parameters()``). A constant is
    called by its value. Any other node is unnamed: :meth:`number` gives the ones a drawing
    shows labels such as ``mul#1``, ``mul#2``, ``input#1`` (numbered per kind in
    topological order); the ``#`` keeps them apart from the user's own names.
    """

    def __init__(self, names: Mapping[int, str] | None = None) -> None:
        self.names = names or {}
        self.numbers: dict[int, str] = {}

    def name(self, t: Tensor) -> str | None:
        return t.name or self.names.get(id(t))

    def kind(self, t: Tensor) -> str:
        """An op's output, or a leaf that is a parameter, input data or a constant.

        A leaf that requires grad is (usually) a parameter; an unnamed one-element leaf
        that does not is a constant such as the ``3`` of ``3 * v``; any other leaf is data.
        """
        if node_of(t) is not None:
            return OP
        if t.requires_grad:
            return PARAMETER
        if self.name(t) is None and t.data.size == 1:
            return CONSTANT
        return INPUT

    def _stem(self, t: Tensor) -> str:
        """``mul`` for an op's output, ``leaf`` or ``input`` for a leaf."""
        ctx = node_of(t)
        if ctx is not None:
            return ctx.op_name
        return "leaf" if t.requires_grad else "input"

    def number(self, order: list[Tensor]) -> None:
        """Label the unnamed non-constant tensors of ``order`` (topological) ``stem#k``."""
        counts: Counter[str] = Counter()
        for t in order:
            if self.name(t) is None and self.kind(t) != CONSTANT:
                stem = self._stem(t)
                counts[stem] += 1
                self.numbers[id(t)] = f"{stem}#{counts[stem]}"

    def label(self, t: Tensor) -> str | None:
        """The name of a node, or its number if it is unnamed (None for a constant)."""
        return self.name(t) or self.numbers.get(id(t))

    def operand(self, t: Tensor) -> str:
        """How a tensor appears in formulas and captions: its name, its value if it is a
        constant, its number, or (a tensor outside the drawing) ``[mul]``."""
        label = self.label(t)
        if label:
            return label
        if self.kind(t) == CONSTANT:
            text = _scalar(t.data.reshape(()).item())
            return f"({text})" if text.startswith("-") else text
        return f"[{self._stem(t)}]"

    def title(self, t: Tensor) -> str:
        """Headline of a node: ``u = b · c``, ``sum#1 = sum(x, axis=(1,))``, a leaf's name."""
        label = self.label(t)
        ctx = node_of(t)
        if ctx is None:
            return label or (array_text(t.data) if self.kind(t) == CONSTANT else self.kind(t))
        args = [self.operand(p) for p in ctx.parents if isinstance(p, Tensor)]
        kwargs = getattr(ctx, "kwargs", {})
        if ctx.op_name in INFIX and len(args) == 2 and not kwargs:
            call = f" {INFIX[ctx.op_name]} ".join(args)  # as the course writes u = b·c
        else:
            parts = args + [f"{k}={_short(v)}" for k, v in kwargs.items()
                            if v is not None and v is not False and _short(v)]
            call = f"{ctx.op_name}({', '.join(parts)})"
        return f"{label} = {call}" if label else call

    def edge_formula(self, child: Tensor, slot: int) -> str | None:
        """The local derivative ∂child/∂(argument ``slot`` of its op), in the graph's labels.

        ``Mul`` declares ``∂/∂a = b`` over its placeholders ``a, b``; every placeholder, as
        a whole identifier, is replaced by the label of the argument it stands for, so for
        ``u = b·c`` the edge from ``b`` reads ``∂u/∂b = c`` and for ``J = 3·v`` the edge
        from ``v`` reads ``∂J/∂v = 3``. An op with more arguments than placeholders
        (``concatenate``) uses its last placeholder for each of the extra ones. An op may
        also name its output's placeholder (``output = "a"`` for ``σ'(z) = a(1 − a)``); it
        is replaced by the child's label.
        """
        ctx = node_of(child)
        cls = type(ctx)
        if not cls.derivatives:
            return None
        formula = cls.derivatives[min(slot, len(cls.derivatives) - 1)]
        last = len(cls.inputs) - 1
        mapping = {}
        for i, placeholder in enumerate(cls.inputs):
            j = slot if i == last and slot > last else i
            if j < len(ctx.parents):
                mapping[placeholder] = self._argument(ctx.parents[j], placeholder)
        output = getattr(cls, "output", None)
        if isinstance(output, str) and output:
            mapping.setdefault(output, self.operand(child))
        if mapping:
            pattern = "|".join(re.escape(n) for n in sorted(mapping, key=len, reverse=True))
            formula = re.sub(f"(?<![{_ASCII_WORD}])({pattern})(?![{_ASCII_WORD}])",
                             lambda m: mapping[m.group(1)], formula)
        return f"∂{self.operand(child)}/∂{self.operand(ctx.parents[slot])} = {formula}"

    def _argument(self, value, placeholder: str) -> str:
        """An op's argument in a formula: a tensor's operand label, else a short value."""
        if isinstance(value, Tensor):
            return self.operand(value)
        return _short(value) or f"[{placeholder}]"


def _short(v) -> str:
    """A keyword argument's value as the drawing shows it ("" when too long to show)."""
    if isinstance(v, (float, np.floating)):
        return number(float(v))
    text = repr(v.item() if isinstance(v, np.generic) else v)
    return "" if isinstance(v, np.ndarray) or len(text) > 24 else text
