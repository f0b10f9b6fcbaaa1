"""``tinygrad-ng gradcheck``: every built-in op against centred finite differences.

The list of ops is read from the library itself (each public ``Function`` subclass in
``tinygrad_ng.ops`` and ``tinygrad_ng.functional``), so an op added later shows up here
at once; until it gets an entry in :data:`CASES` it is reported as "not covered" and the
command fails. An entry makes a few random inputs (float64, small shapes, broadcasting
where the op broadcasts) kept away from the points where the op has a kink, and each is
checked with :func:`tinygrad_ng.gradcheck`'s comparison.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import ModuleType

import numpy as np

import tinygrad_ng.functional as F
from tinygrad_ng import ops
from tinygrad_ng.function import Function
from tinygrad_ng.functional.conv import conv_geometry
from tinygrad_ng.gradcheck import gradcheck_report
from tinygrad_ng.tensor import Tensor, concatenate, stack, where

Rng = np.random.Generator


@dataclass
class Case:
    """One gradient check: ``fn`` applied to float64 tensors made from ``arrays`` (each
    requiring grad), compared with finite differences of step ``eps``."""

    fn: Callable[..., Tensor]
    arrays: tuple[np.ndarray, ...]
    eps: float = 1e-6


@dataclass
class OpResult:
    """One row of the table."""

    op: str
    module: str
    cases: int
    worst: float | None  # the largest relative difference over the cases
    status: str          # "pass", "FAIL" or "not covered"
    detail: str = ""


# ------------------------------------------------------------------ input generators
def _u(rng: Rng, shape: tuple, low: float = -2.0, high: float = 2.0) -> np.ndarray:
    return rng.uniform(low, high, shape)


def _away_from_zero(rng: Rng, shape: tuple, low: float = 0.2, high: float = 2.0) -> np.ndarray:
    """Values with |x| in [low, high] and random signs (no kink of abs/relu nearby)."""
    return rng.uniform(low, high, shape) * rng.choice([-1.0, 1.0], shape)


def _distinct(rng: Rng, shape: tuple) -> np.ndarray:
    """Values at least 0.2 apart (no ties for max/min)."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.3 + rng.uniform(0, 0.1, n) - 0.15 * n).reshape(shape)


#: Pairs of shapes that broadcast against each other, scalars included.
_PAIRS = [((2, 3), (2, 3)), ((3,), (2, 3)), ((2, 1), (1, 3)), ((), (2, 2))]


def _binary(fn: Callable, low: float = -2.0, high: float = 2.0,
            positive: bool = False) -> Callable[[Rng], list[Case]]:
    def make(rng: Rng) -> list[Case]:
        draw = (lambda s: rng.uniform(low, high, s)) if positive else \
            (lambda s: _away_from_zero(rng, s, low, high))
        return [Case(fn, (draw(a), draw(b))) for a, b in _PAIRS]
    return make


def _unary(fn: Callable, draw: Callable[[Rng, tuple], np.ndarray] = _u,
           shapes: Iterable[tuple] = ((), (3,), (2, 3))) -> Callable[[Rng], list[Case]]:
    return lambda rng: [Case(fn, (draw(rng, s),)) for s in shapes]


def _positive(rng: Rng, shape: tuple) -> np.ndarray:
    return rng.uniform(0.3, 3.0, shape)


def _reduction(name: str, draw: Callable[[Rng, tuple], np.ndarray] = _u
               ) -> Callable[[Rng], list[Case]]:
    def make(rng: Rng) -> list[Case]:
        kws = [{}, {"axis": 0}, {"axis": 1, "keepdims": True}, {"axis": (0, 2)}]
        return [Case(lambda x, kw=kw: getattr(x, name)(**kw), (draw(rng, (2, 3, 2)),))
                for kw in kws]
    return make


def _matmul(rng: Rng) -> list[Case]:
    shapes = [((3, 4), (4, 2)), ((4,), (4, 2)), ((3, 4), (4,)), ((2, 3, 4), (4, 2)),
              ((2, 1, 3, 4), (3, 4, 2))]
    return [Case(lambda a, b: a @ b, (_u(rng, a), _u(rng, b))) for a, b in shapes]


def _max_min(method: str) -> Callable[[Rng], list[Case]]:
    def make(rng: Rng) -> list[Case]:
        # a on the grid 0.4ℤ, b on 0.4ℤ + 0.2, both jittered by < 0.05: every pair that
        # meets under broadcasting is at least 0.1 apart, so there are no ties
        def draw(shape: tuple, offset: float) -> np.ndarray:
            return rng.integers(-5, 5, shape) * 0.4 + offset + rng.uniform(-0.05, 0.05, shape)
        return [Case(lambda x, y: getattr(x, method)(y), (draw(a, 0.0), draw(b, 0.2)))
                for a, b in _PAIRS]
    return make


def _where(rng: Rng) -> list[Case]:
    cond = rng.random((2, 3)) < 0.5
    return [Case(lambda a, b: where(cond, a, b), (_u(rng, (2, 3)), _u(rng, (3,)))),
            Case(lambda a: where(cond, a, 0.5), (_u(rng, (2, 1)),))]


def _clip(rng: Rng) -> list[Case]:
    x = _u(rng, (3, 4))
    x = np.where(np.abs(np.abs(x) - 0.5) < 0.05, x + 0.2, x)  # away from the bounds ±0.5
    return [Case(lambda t: t.clip(-0.5, 0.5), (x,)), Case(lambda t: t.clip(min=-0.5), (x,)),
            Case(lambda t: t.clip(max=0.5), (x,))]


def _shape_ops(rng: Rng) -> dict[str, list[Case]]:
    x = _u(rng, (2, 3, 4))
    return {
        "reshape": [Case(lambda t: t.reshape(4, 6), (x,)), Case(lambda t: t.flatten(1), (x,))],
        "transpose": [Case(lambda t: t.transpose(2, 0, 1), (x,)), Case(lambda t: t.T, (x,))],
        "broadcast_to": [Case(lambda t: t.broadcast_to(2, 3, 4), (_u(rng, (3, 1)),))],
        "getitem": [Case(lambda t: t[1, :, 1:3], (x,)),
                    Case(lambda t: t[np.array([0, 1, 1])], (x,)),  # a repeated index
                    Case(lambda t: t[x > 0], (x,))],
        "scatter": [Case(lambda t: ops.Scatter.apply(t, shape=(4, 3), index=np.array([0, 2, 2])),
                         (_u(rng, (3, 3)),))],  # a repeated index adds
        "concatenate": [Case(lambda a, b: concatenate([a, b], axis=1),
                             (_u(rng, (2, 3)), _u(rng, (2, 2))))],
        "stack": [Case(lambda a, b: stack([a, b], axis=1), (_u(rng, (2, 3)), _u(rng, (2, 3))))],
    }


def _softmaxes(name: str) -> Callable[[Rng], list[Case]]:
    return lambda rng: [Case(lambda z, ax=ax: getattr(F, name)(z, axis=ax), (_u(rng, (3, 4)),))
                        for ax in (-1, 0)]


def _cross_entropy(rng: Rng) -> list[Case]:
    z = _u(rng, (4, 3))
    idx = rng.integers(0, 3, 4)
    probs = rng.dirichlet(np.ones(3), 4)
    return [Case(lambda t: F.cross_entropy(t, idx), (z,)),
            Case(lambda t: F.cross_entropy(t, idx, reduction="sum", label_smoothing=0.1), (z,)),
            Case(lambda t, y: F.cross_entropy(t, y, reduction="none"), (z, probs)),
            Case(lambda t: F.cross_entropy(t, idx, axis=0), (z.T.copy(),))]


def _pointwise_loss(fn: Callable, x_low: float, x_high: float) -> Callable[[Rng], list[Case]]:
    def make(rng: Rng) -> list[Case]:
        x, y = rng.uniform(x_low, x_high, (4, 2)), rng.uniform(0.0, 1.0, (4, 2))
        return [Case(lambda a, b, r=r: fn(a, b, reduction=r), (x, y))
                for r in ("mean", "sum", "none")]
    return make


def _linear(rng: Rng) -> list[Case]:
    return [Case(F.linear, (_u(rng, (4, 3)), _u(rng, (2, 3)), _u(rng, (2,)))),
            Case(F.linear, (_u(rng, (2, 4, 3)), _u(rng, (2, 3)))),
            Case(F.linear, (_u(rng, (3,)), _u(rng, (2, 3)), _u(rng, (2,))))]


def _batch_norm(rng: Rng) -> list[Case]:
    mean, var = _u(rng, (3,)), rng.uniform(0.5, 2.0, 3)
    return [
        Case(F.batch_norm, (_u(rng, (5, 3)), _u(rng, (3,)), _u(rng, (3,)))),
        Case(F.batch_norm, (_u(rng, (4, 3, 2)),)),
        Case(lambda x, g, b: F.batch_norm(x, g, b, mean.copy(), var.copy(), training=False),
             (_u(rng, (5, 3)), _u(rng, (3,)), _u(rng, (3,)))),
    ]


def _dropout(rng: Rng) -> list[Case]:
    # gradcheck replays the library's generator, so every evaluation draws the same mask
    return [Case(lambda x, p=p: F.dropout(x, p), (_u(rng, (4, 5)),)) for p in (0.3, 0.5)]


def _cast(rng: Rng) -> list[Case]:
    # through float32 and back: the finite differences need a larger step to see past
    # float32's rounding
    return [Case(lambda x: x.astype(np.float32) * 1.5, (rng.uniform(0.5, 2.0, (2, 3)),),
                 eps=1e-3)]


def _maths() -> dict[str, Callable[[Rng], list[Case]]]:
    """The elementwise maths of ops/maths.py, each inside its domain."""
    def within(low: float, high: float) -> Callable[[Rng, tuple], np.ndarray]:
        return lambda rng, s: _u(rng, s, low, high)
    unary = {"sin": None, "cos": None, "tan": within(-1.2, 1.2), "arcsin": within(-0.9, 0.9),
             "arccos": within(-0.9, 0.9), "arctan": None, "sinh": None, "cosh": None,
             "arcsinh": None, "arccosh": within(1.2, 3.0), "arctanh": within(-0.9, 0.9),
             "log2": _positive, "log10": _positive, "log1p": within(-0.7, 2.0), "exp2": None,
             "expm1": None, "cbrt": _away_from_zero, "erf": None}
    table = {name: _unary(lambda x, name=name: getattr(x, name)(), draw or _u)
             for name, draw in unary.items()}
    table["arctan2"] = _binary(lambda y, x: y.arctan2(x))
    table["logaddexp"] = _binary(lambda a, b: a.logaddexp(b), -3.0, 3.0, positive=True)
    return table


def _away_from_unit(rng: Rng, shape: tuple) -> np.ndarray:
    """Values away from hardtanh's kinks at ±1."""
    return rng.choice([-1.6, 0.0, 1.6], shape) + rng.uniform(-0.5, 0.5, shape)


def _scan(name: str) -> Callable[[Rng], list[Case]]:
    def make(rng: Rng) -> list[Case]:
        x = _away_from_zero(rng, (2, 3, 2), 0.5, 1.5)
        with_zero = x.copy()
        with_zero[0, 1, 0] = 0.0  # cumprod's exact gradient through a zero
        return [Case(lambda t, d=d: getattr(t, name)(d), (a,))
                for d, a in ((0, x), (1, x), (-1, with_zero), (None, x))]
    return make


def _norm(rng: Rng) -> list[Case]:
    x = _u(rng, (2, 3, 2))
    return [Case(lambda t, kw=kw: t.norm(**kw), (x,))
            for kw in ({}, {"dim": 1}, {"dim": (0, 2), "keepdim": True})]


def _layer_norm(rng: Rng) -> list[Case]:
    return [Case(lambda x, w, b: F.layer_norm(x, (3,), w, b),
                 (_u(rng, (4, 3)), _u(rng, (3,)), _u(rng, (3,)))),
            Case(lambda x: F.layer_norm(x, (2, 3)), (_u(rng, (2, 2, 3)),))]


def _conv_ops(rng: Rng) -> dict[str, list[Case]]:
    """The convolution and pooling ops: strides, padding, dilation and groups."""
    x, y = _u(rng, (2, 4, 5, 6)), _u(rng, (2, 6, 3, 3))
    geom = conv_geometry(x.shape, (6, 2, 3, 2), stride=2, padding=1, groups=2)
    plane = _distinct(rng, (2, 2, 5, 5))
    index = rng.integers(0, plane.size, (2, 2, 2, 2))  # flat positions, repeats add up
    return {
        "conv2d": [Case(lambda a, w, b: F.conv2d(a, w, b, stride=2, padding=1, groups=2),
                        (x, _u(rng, (6, 2, 3, 2)), _u(rng, (6,)))),
                   Case(lambda a, w: F.conv2d(a, w, padding="same", dilation=2),
                        (x, _u(rng, (3, 4, 2, 2))))],
        "conv_transpose2d": [Case(lambda a, w, b: F.conv_transpose2d(
            a, w, b, stride=2, padding=1, output_padding=1), (y, _u(rng, (6, 3, 3, 3)),
                                                              _u(rng, (3,))))],
        "conv2d_weight": [Case(lambda a, g: F.Conv2dWeight.apply(a, g, None, geom=geom),
                               (x, _u(rng, (2, 6) + geom.out)))],
        "max_pool2d": [Case(lambda a: F.max_pool2d(a, 3, 2, 1, ceil_mode=True), (plane,)),
                       Case(lambda a: F.max_pool2d(a, 2), (plane,))],
        "max_unpool2d": [Case(lambda g: F.MaxUnpool.apply(g, index=index, shape=plane.shape,
                                                          unique=False), (_u(rng, (2, 2, 2, 2)),))],
        "pad": [Case(lambda a: F.pad(a, (1, 2, 0, 1), value=0.5), (_u(rng, (2, 3, 4)),))],
    }


def _embedding(rng: Rng) -> list[Case]:
    # row 2 twice: its gradients add (padding_idx is left out: by design the padding row
    # gets no gradient, which is not the derivative finite differences measure)
    idx = np.array([[0, 2], [2, 3]])
    return [Case(lambda w: F.embedding(idx, w), (_u(rng, (4, 3)),))]


def _recurrent(layer: Callable, gates: int, states: int = 1,
               **kwargs) -> Callable[[Rng], list[Case]]:
    """A fused recurrent layer over 3 steps, forwards and backwards in time: the gradients
    of the input, the initial state(s), both weights and both biases."""
    def make(rng: Rng) -> list[Case]:
        T, B, n_in, H = 3, 2, 3, 2
        shapes = [(T, B, n_in)] + [(B, H)] * states + [(gates * H, n_in), (gates * H, H),
                                                        (gates * H,), (gates * H,)]
        return [Case(lambda *a, r=r: layer(*a, reverse=r, **kwargs),
                     tuple(_u(rng, s, -1.0, 1.0) for s in shapes)) for r in (False, True)]
    return make


def _cases(rng: Rng) -> dict[str, list[Case]]:
    """Every op name → its checks, drawn from ``rng``."""
    table: dict[str, Callable[[Rng], list[Case]]] = {
        "add": _binary(lambda a, b: a + b),
        "sub": _binary(lambda a, b: a - b),
        "mul": _binary(lambda a, b: a * b),
        "div": _binary(lambda a, b: a / b, 0.5, 2.0),
        "pow": _binary(lambda a, b: a ** b, 0.5, 2.0, positive=True),
        "matmul": _matmul,
        "maximum": _max_min("maximum"),
        "minimum": _max_min("minimum"),
        "where": _where,
        "neg": _unary(lambda x: -x),
        "exp": _unary(lambda x: x.exp()),
        "log": _unary(lambda x: x.log(), _positive),
        "sqrt": _unary(lambda x: x.sqrt(), _positive),
        "abs": _unary(lambda x: x.abs(), _away_from_zero),
        "square": _unary(lambda x: x.square()),
        "clip": _clip,
        "cast": _cast,
        "sum": _reduction("sum"),
        "mean": _reduction("mean"),
        "var": _reduction("var"),
        "max": _reduction("max", _distinct),
        "min": _reduction("min", _distinct),
        "logsumexp": _reduction("logsumexp"),
        "sigmoid": _unary(F.sigmoid, lambda rng, s: _u(rng, s, -4, 4)),
        "tanh": _unary(F.tanh),
        "relu": _unary(F.relu, _away_from_zero),
        "leaky_relu": _unary(lambda x: F.leaky_relu(x, 0.1), _away_from_zero),
        "softmax": _softmaxes("softmax"),
        "log_softmax": _softmaxes("log_softmax"),
        "cross_entropy": _cross_entropy,
        "mse_loss": _pointwise_loss(F.mse_loss, -2.0, 2.0),
        "binary_cross_entropy": _pointwise_loss(F.binary_cross_entropy, 0.1, 0.9),
        "binary_cross_entropy_with_logits": _pointwise_loss(F.binary_cross_entropy_with_logits,
                                                            -3.0, 3.0),
        "linear": _linear,
        "batch_norm": _batch_norm,
        "dropout": _dropout,
        **_maths(),
        "clone": _unary(lambda x: x.clone()),
        "sign": _unary(lambda x: x.sign() * x, _away_from_zero),
        "cumsum": _scan("cumsum"),
        "cumprod": _scan("cumprod"),
        "norm": _norm,
        "gelu": _unary(F.gelu, lambda rng, s: _u(rng, s, -3, 3)),
        "elu": _unary(lambda x: F.elu(x, 0.7), _away_from_zero),
        "softplus": _unary(lambda x: F.softplus(x, beta=2.0), lambda rng, s: _u(rng, s, -3, 3)),
        "hardtanh": _unary(F.hardtanh, _away_from_unit),
        "layer_norm": _layer_norm,
        "embedding": _embedding,
        "rnn": _recurrent(F.rnn_layer, 1),
        "lstm": _recurrent(F.lstm_layer, 4, states=2),
        "gru": _recurrent(F.gru_layer, 3),
    }
    cases = {name: make(rng) for name, make in table.items()}
    cases.update(_shape_ops(rng))
    cases.update(_conv_ops(rng))
    return cases


COVERED = frozenset(_cases(np.random.default_rng(0)))


# ------------------------------------------------------------------ the ops and the check
def library_ops(modules: Iterable[ModuleType] = (ops, F)) -> list[tuple[str, str]]:
    """``(op name, module name)`` of every public ``Function`` subclass defined in
    ``modules`` (packages: in their submodules), in the order the modules list them."""
    found = []
    for module in modules:
        for name, obj in vars(module).items():
            if inspect.isclass(obj) and issubclass(obj, Function) and \
                    obj.__module__.startswith(module.__name__) and not name.startswith("_"):
                found.append((obj.op or name, module.__name__.rsplit(".", 1)[-1]))
    return found


def check_op(op: str, cases: list[Case]) -> tuple[float, bool, str]:
    """Run ``cases``: (worst relative difference, all passed, a note on the first failure)."""
    worst, passed, note = 0.0, True, ""
    for i, case in enumerate(cases):
        inputs = [Tensor(np.asarray(a, dtype=np.float64), requires_grad=True)
                  for a in case.arrays]
        try:
            with np.errstate(divide="raise", invalid="raise", over="raise"):
                checks = gradcheck_report(case.fn, inputs, eps=case.eps)
        except Exception as e:  # a crash is a failure of the op, reported in its row
            return worst, False, f"case {i + 1}: {type(e).__name__}: {e}".splitlines()[0]
        for c in checks:
            worst = max(worst, c.relative_difference)
            if not c.passed and passed:
                passed, note = False, f"case {i + 1}: {c}"
    return worst, passed, note


def run(seed: int = 0, only: Iterable[str] | None = None) -> list[OpResult]:
    """Check every library op (or those named in ``only``) and return the table's rows."""
    cases = _cases(np.random.default_rng(seed))
    rows = []
    wanted = None if only is None else set(only)
    for op, module in library_ops():
        if wanted is not None and op not in wanted:
            continue
        if op not in cases:
            rows.append(OpResult(op, module, 0, None, "not covered",
                                 "no entry in tinygrad_ng/cli/opcheck.py"))
            continue
        worst, passed, note = check_op(op, cases[op])
        rows.append(OpResult(op, module, len(cases[op]), worst, "pass" if passed else "FAIL",
                             note))
    return rows


def table(rows: list[OpResult]) -> str:
    """The rows as a fixed-width text table."""
    width = max([len(r.op) for r in rows] + [2])
    lines = [f"{'op':<{width}}  {'module':<10}  {'cases':>5}  {'worst rel. diff':>15}  result",
             "-" * (width + 50)]
    for r in rows:
        worst = "-" if r.worst is None else f"{r.worst:.2e}"
        line = f"{r.op:<{width}}  {r.module:<10}  {r.cases:>5}  {worst:>15}  {r.status}"
        lines.append(f"{line}  ({r.detail})" if r.status == "FAIL" else line)
    return "\n".join(lines)
