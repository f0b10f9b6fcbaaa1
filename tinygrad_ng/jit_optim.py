"""How ``tg.jit`` replays ``opt.step()``: the optimiser's own NumPy operations on the tape's
arrays, without the per-step bookkeeping of :meth:`Optimizer.step`.

- An elementwise rule over a small group (:func:`flat_groups`) runs once on the group laid
  end to end (:func:`_flat_step`), as ``Optimizer.step`` does itself. The tape's gradients
  become slices of one flat array (:func:`join_grads`), so they need no joining; the
  weights are joined only when the rule reads them (``Optimizer.update_reads_weights``, or
  an L2 weight decay); a rule with ``update_scratch`` computes in arrays of the tape.
- Plain SGD (:func:`sgd_chunks`) is replayed as ``lr·dW`` and ``W -= …`` a chunk at a time
  through one scratch buffer (:func:`_sgd_step`).
- Anything else replays ``opt.step()`` itself.

Each runs the same NumPy operations on the same values as the eager step, so the
parameters stay bit-for-bit the same.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from .tensor import Tensor


def _flat_step(opt: Any, groups: list) -> None:
    """``opt.step()`` for an elementwise rule whose groups are small: each group's update
    computed once on its parameters laid end to end, as ``Optimizer.step`` does itself.

    Each group is ``(index, params, datas, grads, w, g, bounds, reads, scratch)``: ``g`` is
    the flat gradient, which the tape's gradients are views of when ``grads`` is None
    (nothing to join); ``w`` receives the joined weights only when the rule reads them
    (``reads``, or an L2 weight decay); otherwise it only lends its shape and dtype.
    ``scratch``: arrays the rule computes in (``Optimizer.update_scratch``), or None. Each
    parameter then subtracts its slice of the update in place, as ``Optimizer.step`` does."""
    layouts = [opt._flat_layout(i, params) for i, params, *_ in groups]
    if None in layouts:  # the optimiser's state changed kind (e.g. loaded): its own path
        opt.step()
        return
    concatenate, subtract = np.concatenate, np.subtract
    for (i, _, datas, grads, w, g, bounds, reads, scratch), flat in zip(groups, layouts):
        group = opt.param_groups[i]
        decay = group.get("weight_decay", 0.0)
        if reads or decay:
            concatenate(datas, axis=None, out=w)
        if grads is not None:
            concatenate(grads, axis=None, out=g)
        if scratch is None or decay:
            delta = opt._delta(w, g, group, flat.state)
        else:  # (what _delta computes without weight decay, in the scratch arrays)
            delta = opt.update(w, g, group, flat.state, scratch=scratch)
        for d, a, b in zip(datas, bounds, bounds[1:]):
            subtract(d, delta[a:b].reshape(d.shape), out=d)
        flat.share()


#: Elements per pass of the plain SGD update (:func:`_sgd_step`): the size of its scratch
#: buffer, small enough to stay in the cache between the multiply and the subtract.
SGD_CHUNK = 2**16


def _sgd_step(opt: Any, parts: list[tuple[int, list]]) -> None:
    """``opt.step()`` for plain SGD (no momentum, no weight decay, a Python number as the
    rate): ``W -= lr·dW`` with the optimiser's two passes (``lr·dW``, then subtracted in
    place), a chunk at a time through one scratch buffer instead of a temporary as large as
    the weights. ``parts``: (group index, its (weights, gradient, scratch) slices)."""
    groups = opt.param_groups
    for group in groups:
        if type(group["lr"]) not in (float, int) or group["momentum"] or group["weight_decay"]:
            opt.step()
            return
    multiply, subtract = np.multiply, np.subtract
    for i, chunks in parts:
        lr = groups[i]["lr"]
        for w, g, scratch in chunks:
            multiply(g, lr, out=scratch)
            subtract(w, scratch, out=w)


def _update_trait(opt: Any, name: str, default: Any) -> Any:
    """``Optimizer.update_reads_weights`` or ``update_scratch`` of ``opt``, as declared by
    the class that defines its ``update`` (a subclass overriding ``update`` gets
    ``default``, whatever its parents declare)."""
    for klass in type(opt).__mro__:
        if "update" in vars(klass):
            return vars(klass).get(name, default)
    return default


def _replace(a: Any, new: dict[int, np.ndarray]) -> Any:
    """``a`` with each array whose id is a key of ``new`` replaced by its value, in tuples,
    lists and dicts (lists and dicts changed in place)."""
    b = new.get(id(a))
    if b is not None:
        return b
    t = type(a)
    if t is tuple:
        return tuple(_replace(x, new) for x in a)
    if t is list:
        a[:] = [_replace(x, new) for x in a]
    elif t is dict:
        a.update({k: _replace(v, new) for k, v in a.items()})
    return a


def _mentions(a: Any, arrays: dict[int, np.ndarray], frozen: bool = False) -> bool:
    """Whether ``a`` holds one of ``arrays`` (arrays owning their memory, by id) where
    :func:`_replace` can swap it; raises LookupError where it holds one otherwise (in a
    partial's arguments, or through a view)."""
    if id(a) in arrays:
        if frozen:
            raise LookupError("held where it cannot be swapped")
        return True
    t = type(a)
    if t is tuple or t is list:
        return any([_mentions(x, arrays, frozen) for x in a])
    if t is dict:
        return any([_mentions(x, arrays, frozen) for x in a.values()])
    if t is functools.partial:
        return _mentions((a.args, a.keywords), arrays, True)
    if isinstance(a, np.ndarray):
        owner = _owner(a)
        if id(owner) in arrays if owner is not None else any(
                np.may_share_memory(a, b) for b in arrays.values()):
            raise LookupError("held where it cannot be swapped")
    return False


def _owner(a: np.ndarray) -> np.ndarray | None:
    """The array owning ``a``'s memory (a view's ``base`` chain ends at it); None when the
    chain ends at something else (a buffer NumPy did not allocate)."""
    while type(a.base) is np.ndarray:
        a = a.base
    return a if a.base is None else None


# ------------------------------------------------------------------------------ layouts
def flat_groups(c: Any, opt: Any) -> list | None:
    """How to replay ``opt.step()`` one parameter group at a time, on the group's
    parameters and gradients laid end to end (as the optimiser's own step does for
    elementwise rules and small groups); None when that is not known to be its path.
    Where it can, the tape's gradients become views of one flat array, so the replay
    need not join them (see :func:`join_grads`)."""
    from tinygrad_ng.optim.optimizer import FLAT_MAX

    if not opt.elementwise:
        return None
    groups = []
    reads = _update_trait(opt, "update_reads_weights", True)
    n_scratch = _update_trait(opt, "update_scratch", 0)
    for i, group in enumerate(opt.param_groups):
        params, grads = [], []
        for p in group["params"]:
            if id(p) in c.checks:  # its gradient is stored by this tape
                params.append(p)
                grads.append(c.checks[id(p)][1])
            elif id(p) not in c.reset:  # a .grad from outside the step: unknown
                return None
        datas = [p.data for p in params]
        sizes = [d.size for d in datas]
        if (len(params) < 2 or sum(sizes) > FLAT_MAX
                or any(d.dtype != datas[0].dtype for d in datas)):
            return None
        w = np.concatenate(datas, axis=None)
        bounds = np.cumsum([0, *sizes]).tolist()
        g = join_grads(c, params, grads, bounds, np.empty_like(w))
        scratch = tuple(np.empty_like(w) for _ in range(n_scratch)) or None
        groups.append((i, params, datas, None if g is not None else grads, w,
                       np.empty_like(w) if g is None else g, bounds, reads, scratch))
    return groups


def sgd_chunks(c: Any, opt: Any) -> list | None:
    """The slices :func:`_sgd_step` updates, per group, when ``opt`` is ``optim.SGD``
    itself and every parameter gets its gradient from this tape (C-contiguous, writeable
    weights and gradients of one dtype); None otherwise."""
    from tinygrad_ng.optim.sgd import SGD

    if getattr(type(opt), "update", None) is not SGD.update:
        return None
    parts, scratch = [], {}
    for i, group in enumerate(opt.param_groups):
        chunks = []
        for p in group["params"]:
            w, entry = p.data, c.checks.get(id(p))
            if entry is None or not p.requires_grad:
                return None
            g = entry[1]
            if (g.dtype != w.dtype or g.shape != w.shape or not w.flags.writeable
                    or not (w.flags.c_contiguous and g.flags.c_contiguous)):
                return None
            buf = scratch.get(w.dtype)
            if buf is None:
                buf = scratch[w.dtype] = np.empty(SGD_CHUNK, w.dtype)
            w, g = w.reshape(-1), g.reshape(-1)
            chunks += [(w[a:a + SGD_CHUNK], g[a:a + SGD_CHUNK], buf[:min(SGD_CHUNK,
                                                                        w.size - a)])
                       for a in range(0, w.size, SGD_CHUNK)]
        parts.append((i, chunks))
    return parts


def join_grads(c: Any, params: list[Tensor], grads: list[np.ndarray], bounds: list[int],
               g: np.ndarray) -> np.ndarray | None:
    """Make the tape's gradients of ``params`` views of the flat ``g`` (slices laid end
    to end), so the optimiser reads them joined; None (nothing changed) unless each is
    the tape's own C-contiguous array, given to that parameter alone and held only in
    places :func:`_replace` reaches."""
    for p, buf in zip(params, grads):
        if (id(buf) not in c.fresh or buf.base is not None or buf.dtype != g.dtype
                or buf.shape != p.data.shape or not buf.flags.c_contiguous
                or c.returns(buf)):
            return None
    program = c.tape.program
    arrays = {id(buf): buf for buf in grads}
    try:
        users = [k for k, (_, args) in enumerate(program) if _mentions(args, arrays)]
    except LookupError:
        return None
    views = {}
    for p, buf, a, b in zip(params, grads, bounds, bounds[1:]):
        view = views[id(buf)] = g[a:b].reshape(buf.shape)
        view[...] = buf
        c.checks[id(p)] = (p, view)
        c.fresh.add(id(view))
        c.handed.add(id(view))
    for k in users:
        f, args = program[k]
        program[k] = (f, _replace(args, views))
    return g
