"""Gradients on demand and gradient checking (first and second derivatives) against centred
finite differences.

The course's check: for every parameter θᵢ,
``dθ_approx[i] = (J(θ + εeᵢ) − J(θ − εeᵢ)) / 2ε``, compared with backprop's ``dθ`` by the
relative difference ``‖dθ_approx − dθ‖₂ / (‖dθ_approx‖₂ + ‖dθ‖₂)`` (≈1e-7: fine; ≈1e-3:
a bug). Everything here is computed in float64, even for float32 inputs and models.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import autograd, random
from .autograd import grad
from .dtypes import default_dtype
from .function import Function
from .tensor import Tensor, concatenate


def _as_f64(inputs: Sequence[Any]) -> list[Any]:
    """Float64 copies of the float tensors (keeping requires_grad); others unchanged."""
    out = []
    for t in inputs:
        if isinstance(t, Tensor) and t.dtype.kind == "f":
            out.append(Tensor(t.data.astype(np.float64), requires_grad=t.requires_grad))
        else:
            out.append(t)
    return out


def _objective(fn: Callable[..., Tensor], inputs: list[Any], weight: np.ndarray | None,
               rng_state: dict) -> Tensor:
    """Σ fn(*inputs) ⊙ weight: a scalar whose gradient is a vector-Jacobian product."""
    random.set_state(rng_state)  # the same dropout masks on every evaluation
    out = fn(*inputs)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradient check: the function must return a Tensor, got "
                        f"{type(out).__name__}")
    return out if weight is None else (out * Tensor(weight)).sum()


def _weight(fn, inputs, grad_output, rng_state) -> np.ndarray | None:
    if grad_output is not None:
        return np.asarray(grad_output.data if isinstance(grad_output, Tensor) else grad_output,
                          dtype=np.float64)
    with autograd.no_grad():
        out = _objective(fn, inputs, None, rng_state)
    if out.size == 1:
        return None
    return np.random.default_rng(0).standard_normal(out.shape)


def numerical_grad(fn: Callable[..., Tensor], inputs: Sequence[Any], eps: float = 1e-6,
                   grad_output: Any = None) -> list[np.ndarray | None]:
    """Centred finite differences of ``Σ fn(*inputs) ⊙ grad_output`` in float64.

    ``grad_output`` defaults to 1 for a one-element output; for a larger output pass one
    (gradcheck uses a fixed random one). Returns one array per input (None for inputs that
    do not require grad).
    """
    with default_dtype(np.float64):
        xs = _as_f64(inputs)
        state = random.get_state()
        w = _weight(fn, xs, grad_output, state)
        return _numeric(fn, xs, w, eps, state)


def central_differences(array: np.ndarray, J: Callable[[], float], eps: float) -> np.ndarray:
    """(J(θ + εeᵢ) − J(θ − εeᵢ)) / 2ε for every element θᵢ of ``array`` (nudged in place)."""
    g = np.zeros(array.shape)
    flat, gflat = array.flat, g.reshape(-1)  # .flat writes through for any memory layout
    for i in range(array.size):
        orig = flat[i]
        flat[i] = orig + eps
        plus = J()
        flat[i] = orig - eps
        minus = J()
        flat[i] = orig
        gflat[i] = (plus - minus) / (2 * eps)
    return g


def _numeric(fn, xs, w, eps, state) -> list[np.ndarray | None]:
    def J() -> float:
        return float(_objective(fn, xs, w, state).data.sum())

    with autograd.no_grad():
        grads = [central_differences(x.data, J, eps)
                 if isinstance(x, Tensor) and x.requires_grad else None for x in xs]
    random.set_state(state)
    return grads


def relative_difference(approx: np.ndarray, exact: np.ndarray) -> float:
    """The course's ‖approx − exact‖₂ / (‖approx‖₂ + ‖exact‖₂) (0 when both are 0)."""
    den = np.linalg.norm(approx) + np.linalg.norm(exact)
    return 0.0 if den == 0 else float(np.linalg.norm(approx - exact) / den)


class GradcheckError(AssertionError):
    """Autograd and finite differences disagree."""


@dataclass
class InputCheck:
    """Result of gradcheck for one input."""

    index: int
    shape: tuple
    relative_difference: float
    worst_index: tuple
    analytic: float
    numerical: float
    passed: bool

    def __str__(self) -> str:
        mark = "ok" if self.passed else "MISMATCH"
        return (f"input {self.index} {self.shape}: {mark}, relative difference "
                f"{self.relative_difference:.2e}; worst element {self.worst_index}: "
                f"autograd {self.analytic:.6g} vs numerical {self.numerical:.6g}")


def gradcheck(fn: Callable[..., Tensor], inputs: Any, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, raise_exception: bool = True,
              grad_output: Any = None) -> bool:
    """Compare autograd with centred finite differences, in float64.

    ``inputs``: a tensor or a sequence of them (and any other arguments for ``fn``); each
    tensor with ``requires_grad`` is checked. For a non-scalar output the check uses the
    gradient of ``Σ out ⊙ v`` for a fixed random ``v``. An element passes when
    ``|autograd − numerical| ≤ atol + rtol·|numerical|``. Returns True; on a mismatch raises
    :class:`GradcheckError` with a per-input report (or returns False when
    ``raise_exception=False``).
    """
    checks = gradcheck_report(fn, inputs, eps, atol, rtol, grad_output)
    ok = all(c.passed for c in checks)
    if not ok and raise_exception:
        raise GradcheckError(f"gradcheck of {checked_op(fn, inputs)} failed:\n"
                             + "\n".join(str(c) for c in checks))
    return ok


def checked_op(fn: Callable[..., Tensor], inputs: Any) -> str:
    """What a gradient check checks, for its messages: ``Function WrongSquare`` when ``fn``
    is a Function's ``apply``, else the function's name and the ops its output is computed
    with, in forward order: ``<lambda> (ops: WrongSquare, sum)``."""
    owner = getattr(fn, "__self__", None)
    if isinstance(owner, type) and issubclass(owner, Function):
        return f"Function {owner.__name__}"
    target = getattr(fn, "func", fn)  # a functools.partial: the function it wraps
    name = getattr(target, "__qualname__", type(target).__name__)
    xs = _as_f64([inputs] if isinstance(inputs, Tensor) else list(inputs))
    state = random.get_state()
    try:
        with default_dtype(np.float64):
            out = fn(*xs)
    finally:
        random.set_state(state)
    ops = _ops_of(out) if isinstance(out, Tensor) else []
    return f"{name} (ops: {', '.join(ops)})" if ops else name


def _ops_of(root: Tensor) -> list[str]:
    """The distinct op names of ``root``'s graph, in the order the ops ran."""
    nodes, stack, seen = [], [root], {id(root)}
    while stack:
        ctx = stack.pop()._ctx
        if ctx is None:
            continue
        nodes.append(ctx)
        for p in ctx.parents:
            if isinstance(p, Tensor) and id(p) not in seen:
                seen.add(id(p))
                stack.append(p)
    return list(dict.fromkeys(ctx.op_name for ctx in sorted(nodes, key=lambda c: c.seq)))


def gradcheck_report(fn: Callable[..., Tensor], inputs: Any, eps: float = 1e-6,
                     atol: float = 1e-5, rtol: float = 1e-3,
                     grad_output: Any = None) -> list[InputCheck]:
    """The per-input comparisons behind :func:`gradcheck`."""
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if not any(isinstance(t, Tensor) and t.requires_grad for t in inputs):
        raise ValueError("gradcheck: no input requires grad; create them with "
                         "requires_grad=True")
    with default_dtype(np.float64):
        xs = _as_f64(inputs)
        state = random.get_state()
        w = _weight(fn, xs, grad_output, state)
        out = _objective(fn, xs, w, state)
        positions = [i for i, x in enumerate(xs) if isinstance(x, Tensor) and x.requires_grad]
        wanted = [xs[i] for i in positions]
        analytic = grad(out, wanted, allow_unused=True) if out.requires_grad else \
            [None] * len(wanted)
        numeric = [n for n in _numeric(fn, xs, w, eps, state) if n is not None]
    checks = []
    for k, a, n in zip(positions, analytic, numeric):
        a = np.zeros_like(n) if a is None else a
        err = np.abs(a - n) - (atol + rtol * np.abs(n))
        worst = np.unravel_index(int(np.argmax(err)), n.shape) if n.size else ()
        checks.append(InputCheck(
            index=k, shape=n.shape,
            relative_difference=relative_difference(n, a),
            worst_index=tuple(int(i) for i in worst),
            analytic=float(a[worst]) if n.size else 0.0,
            numerical=float(n[worst]) if n.size else 0.0,
            passed=bool((err <= 0).all())))
    return checks


def gradgradcheck(fn: Callable[..., Tensor], inputs: Any, eps: float = 1e-6,
                  atol: float = 1e-5, rtol: float = 1e-3, raise_exception: bool = True,
                  grad_output: Any = None) -> bool:
    """Compare second derivatives with centred finite differences of the first, in float64.

    The first derivative ``G(x) = ∂J/∂x`` of ``J = Σ fn(*inputs) ⊙ grad_output`` (a fixed
    random ``grad_output`` for a non-scalar output, as :func:`gradcheck`) is computed with
    ``tg.grad(..., create_graph=True)``, so it is itself a function of the inputs, and
    :func:`gradcheck` checks it: its derivative from autograd (a backward pass through the
    graph of the backward pass) against finite differences of ``G`` from plain first-order
    backward passes, element by element, with the course's relative difference and the
    worst element named per input. Returns True; on a mismatch raises
    :class:`GradcheckError` (or returns False when ``raise_exception=False``).
    """
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    with default_dtype(np.float64):
        xs = _as_f64(inputs)
        state = random.get_state()
        w = _weight(fn, xs, grad_output, state)
    positions = [i for i, x in enumerate(xs) if isinstance(x, Tensor) and x.requires_grad]

    def first_derivative(*args: Any) -> Tensor:
        """G(x): the gradients of J for every input that requires grad, flattened."""
        with autograd.enable_grad():
            out = _objective(fn, list(args), w, state)
            wanted = [args[i] for i in positions]
            grads = (grad(out, wanted, create_graph=True, allow_unused=True)
                     if out.requires_grad else [None] * len(wanted))
            return concatenate([Tensor(np.zeros(x.size)) if g is None else g.reshape(-1)
                                for g, x in zip(grads, wanted)])

    checks = gradcheck_report(first_derivative, xs, eps, atol, rtol)
    ok = all(c.passed for c in checks)
    if not ok and raise_exception:
        raise GradcheckError("gradgradcheck failed (the derivative of Σ ∂J/∂x ⊙ u for a fixed "
                             "random u, i.e. Hessian rows):\n" + "\n".join(str(c) for c in checks))
    return ok


@dataclass
class GradientCheckReport:
    """Result of :func:`check_model_gradients`."""

    difference: float
    per_parameter: dict[str, float] = field(default_factory=dict)
    threshold: float = 2e-7

    @property
    def passed(self) -> bool:
        return self.difference < self.threshold

    def __str__(self) -> str:
        lines = [f"gradient check: relative difference {self.difference:.3e} "
                 f"({'passed' if self.passed else 'FAILED'}; threshold {self.threshold:.0e})"]
        width = max((len(n) for n in self.per_parameter), default=0)
        lines += [f"  {n:<{width}}  {d:.3e}" for n, d in self.per_parameter.items()]
        return "\n".join(lines)


def _named_parameters(model: Any) -> list[tuple[str, Tensor]]:
    if hasattr(model, "named_parameters"):
        return list(model.named_parameters())
    if hasattr(model, "parameters"):
        return [(str(i), p) for i, p in enumerate(model.parameters())]
    raise TypeError("check_model_gradients: the model needs named_parameters() or parameters()")


def check_model_gradients(model: Any, loss_fn: Callable[[Tensor, Any], Tensor], X: Any, Y: Any,
                          eps: float = 1e-7, threshold: float = 2e-7) -> GradientCheckReport:
    """The course's whole-network gradient check of ``J = loss_fn(model(X), Y)``.

    Every parameter is flattened into θ; each θᵢ is nudged by ±ε (float64 throughout, the
    model restored afterwards, dropout masks held fixed). ``.difference`` is the relative
    difference over all of θ, ``.per_parameter`` the same per parameter (to find the bug),
    ``.passed`` whether it is below ``threshold`` (the course's 2e-7).
    """
    params = _named_parameters(model)
    saved = [(p.data, p.grad) for _, p in params]
    snapshot = model.state_dict() if hasattr(model, "state_dict") else None
    X64, Y64 = _as_f64([_tensorise(X), _tensorise(Y)])
    state = random.get_state()
    try:
        with default_dtype(np.float64):
            for _, p in params:
                p.data, p.grad = p.data.astype(np.float64), None

            def J() -> Tensor:
                random.set_state(state)
                return loss_fn(model(X64), Y64)

            loss = J()
            if loss.size != 1:
                raise ValueError(f"check_model_gradients: the loss must be a scalar, got shape "
                                 f"{loss.shape}")
            exact = grad(loss, [p for _, p in params], allow_unused=True)
            exact = [np.zeros(p.shape) if g is None else g for (_, p), g in zip(params, exact)]
            with autograd.no_grad():
                approx = [central_differences(p.data, lambda: float(J().data), eps)
                          for _, p in params]
    finally:
        for (_, p), (data, g) in zip(params, saved):
            p.data, p.grad = data, g
        if snapshot is not None:
            model.load_state_dict(snapshot)
        random.set_state(state)
    per = {name: relative_difference(a, e) for (name, _), a, e in zip(params, approx, exact)}
    total = relative_difference(np.concatenate([a.ravel() for a in approx]),
                                np.concatenate([e.ravel() for e in exact]))
    return GradientCheckReport(difference=total, per_parameter=per, threshold=threshold)


def _tensorise(x: Any) -> Any:
    return x if isinstance(x, Tensor) or x is None else Tensor(np.asarray(x))
