"""Jacobians, Hessians and their products for functions of Tensors (PyTorch's
``torch.autograd.functional``, same names and signatures)::

    from tinygrad_ng.autograd.functional import hessian, hvp, jacobian

    f = lambda w: (w ** 4).sum()
    H = hessian(f, w)            # Tensor of shape w.shape + w.shape
    _, Hv = hvp(f, w, v)         # H·v without building H: two backward passes

``func`` takes the inputs (one Tensor, or a tuple of them) and returns a Tensor or a tuple
of Tensors. The inputs are not modified: ``func`` sees fresh leaves with their values (with
``create_graph=True``, views that keep the graph back to the given tensors, so the results
can be differentiated again). Results are Tensors, with a graph only when ``create_graph``.

- :func:`vjp`, :func:`vhp` (vᵀJ, vᵀH): one backward pass (two for vhp), any size.
- :func:`jvp`, :func:`hvp` (J·v, H·v): the *double-vjp trick*, one backward pass more: J·v
  is the derivative of u ↦ uᵀJ (linear in u) in the direction v, so reverse mode gives it.
- :func:`jacobian`, :func:`hessian`: the full matrix, one backward pass per row, so for small
  problems only: at most :data:`MAX_ELEMENTS` entries (a ``ValueError`` above it).

``strict=True`` raises when an output does not depend on an input (otherwise that block is
zeros). ``vectorize`` and the strategies are accepted for compatibility: rows are computed
one by one in reverse mode.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..function import Identity
from ..tensor import Tensor, stack
from . import enable_grad, grad

#: The largest Jacobian or Hessian (number of entries) that :func:`jacobian` and
#: :func:`hessian` build: 2²⁰ (8 MiB in float64, and as many backward passes as rows).
MAX_ELEMENTS = 1 << 20

__all__ = ["MAX_ELEMENTS", "hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]


def vjp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``(func(inputs), vᵀ·J)``: the vector-Jacobian product, one backward pass.

    ``v`` has the shape of the output (a tuple for a tuple output); it may be omitted for a
    one-element output.
    """
    return _product(func, inputs, v, create_graph, strict, "vjp")


def jvp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``(func(inputs), J·v)``: the Jacobian-vector product by the double-vjp trick.

    ``v`` has the shape of the inputs (a tuple for tuple inputs); it may be omitted for a
    single one-element input.
    """
    return _product(func, inputs, v, create_graph, strict, "jvp")


def vhp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``(func(inputs), vᵀ·H)`` for a scalar ``func``: the gradient of ⟨∇f, v⟩."""
    return _product(func, inputs, v, create_graph, strict, "vhp")


def hvp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``(func(inputs), H·v)`` for a scalar ``func``: the Jacobian-vector product of the
    gradient (equal to :func:`vhp` for a twice continuously differentiable ``func``)."""
    return _product(func, inputs, v, create_graph, strict, "hvp")


def jacobian(func: Callable[..., Any], inputs: Any, create_graph: bool = False,
             strict: bool = False, vectorize: bool = False,
             strategy: str = "reverse-mode") -> Any:
    """The full Jacobian ∂func/∂inputs: for one output and one input a Tensor of shape
    ``output.shape + input.shape``; a tuple over inputs (and over outputs, outside) when
    either is a tuple. One backward pass per output element; at most :data:`MAX_ELEMENTS`
    entries."""
    _check_strategy(strategy, "jacobian")
    with enable_grad():
        is_tuple, xs = _inputs(inputs, create_graph, "jacobian")
        out_tuple, outs = _outputs(func, xs, "jacobian")
        blocks = _jacobian(outs, xs, create_graph, strict, "jacobian")
    rows = [_result(r, is_tuple, create_graph) for r in blocks]
    return tuple(rows) if out_tuple else rows[0]


def hessian(func: Callable[..., Any], inputs: Any, create_graph: bool = False,
            strict: bool = False, vectorize: bool = False,
            outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """The full Hessian of a scalar ``func``: for one input a Tensor of shape
    ``input.shape + input.shape``; for tuple inputs a tuple of tuples (block ``[i][j]`` =
    ∂²f/∂xᵢ∂xⱼ). One backward pass per input element; at most :data:`MAX_ELEMENTS`
    entries. A function with more than one output element raises ``ValueError``."""
    _check_strategy(outer_jacobian_strategy, "hessian")
    with enable_grad():
        is_tuple, xs = _inputs(inputs, create_graph, "hessian")
        _, grads = _gradient(func, xs, strict, "hessian")
        blocks = _jacobian(grads, xs, create_graph, strict, "hessian", of="the gradient")
    rows = [_result(r, is_tuple, create_graph) for r in blocks]
    return tuple(rows) if is_tuple else rows[0]


# ----------------------------------------------------------------------------- helpers


def _product(func: Callable[..., Any], inputs: Any, v: Any, create_graph: bool, strict: bool,
             who: str) -> tuple[Any, Any]:
    """``(func(inputs), product)`` for ``who`` in vjp, jvp (products with J) and vhp, hvp
    (products with H: J of the gradient, for a scalar ``func``)."""
    with enable_grad():
        is_tuple, xs = _inputs(inputs, create_graph, who)
        if who in ("vjp", "jvp"):
            out_tuple, outs = _outputs(func, xs, who)
            values, of = outs, "the output"
        else:
            out, outs = _gradient(func, xs, strict, who)
            out_tuple, values, of = False, (out,), "the gradient"
        product = _vjp if who in ("vjp", "vhp") else _jvp  # vᵀ·J or J·v
        vs = _vectors(v, outs if product is _vjp else xs, who,
                      "output" if who == "vjp" else "input")
        res = product(outs, xs, vs, create_graph, strict, who, of)
    res_tuple = out_tuple if who == "jvp" else is_tuple  # one entry per output or input
    return _result(values, out_tuple, create_graph), _result(res, res_tuple, create_graph)


def _inputs(inputs: Any, create_graph: bool, who: str) -> tuple[bool, tuple[Tensor, ...]]:
    """(was a tuple, the inputs as the leaves ``func`` sees)."""
    is_tuple = isinstance(inputs, (tuple, list))
    xs = tuple(inputs) if is_tuple else (inputs,)
    out = []
    for i, x in enumerate(xs):
        if not isinstance(x, Tensor):
            raise TypeError(f"{who}: input {i} is a {type(x).__name__}, not a Tensor")
        if x.dtype.kind != "f":
            raise TypeError(f"{who}: input {i} has dtype {x.dtype}; only floating-point "
                            "inputs can be differentiated")
        # a view that keeps the graph to x (differentiable again), or a fresh leaf
        out.append(Identity.apply(x) if create_graph and x.requires_grad
                   else Tensor(x.data, requires_grad=True))
    return is_tuple, tuple(out)


def _outputs(func: Callable[..., Any], xs: tuple, who: str) -> tuple[bool, tuple]:
    out = func(*xs)
    is_tuple = isinstance(out, (tuple, list))
    outs = tuple(out) if is_tuple else (out,)
    for i, o in enumerate(outs):
        if not isinstance(o, Tensor):
            raise TypeError(f"{who}: the function's output {i} is a {type(o).__name__}, not a "
                            "Tensor")
    return is_tuple, outs


def _gradient(func: Callable[..., Any], xs: tuple, strict: bool, who: str) -> tuple:
    """(f(xs), ∇f as Tensors carrying their graph) for a scalar ``func``."""
    is_tuple, outs = _outputs(func, xs, who)
    if is_tuple or outs[0].size != 1:
        shape = tuple(o.shape for o in outs) if is_tuple else outs[0].shape
        raise ValueError(f"{who}: the function must return a single one-element Tensor (a "
                         f"scalar), got {'a tuple of shapes' if is_tuple else 'shape'} {shape}; "
                         "for a vector function use jacobian, or reduce it to a scalar")
    return outs[0], _vjp(outs, xs, (None,), True, strict, who)


def _vectors(v: Any, like: tuple, who: str, what: str) -> tuple:
    """``v`` as one array per tensor of ``like``, each of its shape."""
    if v is None:
        if len(like) == 1 and like[0].size == 1:
            return (np.ones(like[0].shape, dtype=like[0].dtype),)
        raise ValueError(f"{who}: v can be omitted only for a single one-element {what}; "
                         f"give one of shape {[t.shape for t in like]}")
    vs = tuple(v) if isinstance(v, (tuple, list)) else (v,)
    if len(vs) != len(like):
        raise ValueError(f"{who}: {len(vs)} vectors v for {len(like)} {what}s")
    out = []
    for i, (a, t) in enumerate(zip(vs, like)):
        a = a if isinstance(a, Tensor) else np.asarray(a, dtype=t.dtype)
        if a.shape != t.shape:
            raise ValueError(f"{who}: v[{i}] has shape {a.shape} but {what} {i} has shape "
                             f"{t.shape}")
        out.append(a)
    return tuple(out)


def _vjp(outs: tuple, xs: tuple, vs: tuple, create_graph: bool, strict: bool, who: str,
         of: str = "the output") -> list:
    """Σⱼ vⱼᵀ ∂outⱼ/∂x for each x (zeros where nothing depends on it, unless ``strict``)."""
    live = [(o, v) for o, v in zip(outs, vs) if o.requires_grad]
    grads: list = [None] * len(xs)
    if live:
        grads = grad([o for o, _ in live], list(xs), [v for _, v in live],
                     retain_graph=True, create_graph=create_graph, allow_unused=True)
    out = []
    for i, (g, x) in enumerate(zip(grads, xs)):
        if g is None:
            if strict:
                raise RuntimeError(f"{who}: {of} of the function does not depend on input {i}"
                                   f" (shape {x.shape}); strict=True does not allow that")
            g = np.zeros(x.shape, dtype=x.dtype)
        out.append(g if isinstance(g, Tensor) else Tensor(g))
    return out


def _jvp(outs: tuple, xs: tuple, vs: tuple, create_graph: bool, strict: bool, who: str,
         of: str = "the output") -> list:
    """∂out/∂x · v by the double-vjp trick: with u a dummy cotangent of each output,
    g(u) = uᵀJ is linear in u, and its vjp with v is J·v."""
    us = tuple(Tensor(np.zeros(o.shape, dtype=o.dtype), requires_grad=True) for o in outs)
    g = _vjp(outs, xs, us, True, strict, who, of)
    return _vjp(tuple(g), us, vs, create_graph, False, who)


def _jacobian(outs: tuple, xs: tuple, create_graph: bool, strict: bool, who: str,
              of: str = "the output") -> list[list]:
    """Block [j][i] = ∂outⱼ/∂xᵢ of shape outⱼ.shape + xᵢ.shape, one backward pass per row."""
    n_out, n_in = sum(o.size for o in outs), sum(x.size for x in xs)
    if n_out * n_in > MAX_ELEMENTS:
        raise ValueError(f"{who}: the matrix would have {n_out} × {n_in} = {n_out * n_in} "
                         f"entries, more than MAX_ELEMENTS = {MAX_ELEMENTS}; use vjp, jvp, "
                         "hvp or vhp, which give products with it at the cost of a backward "
                         "pass or two")
    blocks = []
    for o in outs:
        rows: list[list] = [[] for _ in xs]
        for k in range(o.size):
            seed = np.zeros(o.size, dtype=o.dtype)
            seed[k] = 1
            for i, r in enumerate(_vjp((o,), xs, (seed.reshape(o.shape),), create_graph,
                                       strict, who, of)):
                rows[i].append(r)
        blocks.append([_stacked(r, o.shape + x.shape, x.dtype) for r, x in zip(rows, xs)])
    return blocks


def _stacked(rows: list, shape: tuple, dtype: np.dtype) -> Tensor:
    if not rows:  # an empty output
        return Tensor(np.zeros(shape, dtype=dtype))
    return stack(rows).reshape(shape)


def _result(ts: Any, is_tuple: bool, create_graph: bool) -> Any:
    """A tuple or the single Tensor, cut from the graph unless ``create_graph``."""
    ts = [t if create_graph else t.detach() for t in ts]
    return tuple(ts) if is_tuple else ts[0]


def _check_strategy(strategy: str, who: str) -> None:
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError(f"{who}: strategy must be 'reverse-mode' or 'forward-mode', got "
                         f"{strategy!r}")
