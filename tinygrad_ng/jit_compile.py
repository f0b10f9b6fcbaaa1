"""The compiler behind ``tg.jit``: a recorded eager call → a :class:`Tape` of NumPy calls.

Each value of the step (an input, an op's output, a gradient) gets one array, allocated
here and reused by every replay. The program is a list of ``(function, arguments)`` pairs:
mostly NumPy ufuncs writing into those arrays, and for ops without a kernel in
:mod:`~tinygrad_ng.jit_kernels` a call of the op's own ``forward``/``backward``. Side effects
(``opt.step()``, ``zero_grad``, dropout masks, running statistics, storing ``.grad``) are
marked as effects: they are replayed, but not run while compiling; how the optimiser's
step is replayed is in :mod:`~tinygrad_ng.jit_optim`.

While compiling, every instruction that is not an effect runs once on the recorded inputs
(the parameters are put back to their values at the start of the call for that), and each
op's result is compared with the eager one: this checks the tape, and catches a step that
changes arrays with NumPy behind the engine's back.
"""

from __future__ import annotations

import sys
from operator import attrgetter, is_
from typing import Any

import numpy as np

from . import autograd, jit_kernels
from .jit_optim import _flat_step, _owner, _sgd_step, flat_groups, sgd_chunks
from .tensor import Tensor

_data, _training = attrgetter("data"), attrgetter("training")


class JitError(RuntimeError):
    """A step that ``tg.jit`` cannot record faithfully (the message names the line)."""


class Node:
    """One recorded op as the compiler sees it."""

    __slots__ = ("cls", "args", "ins", "kw", "out_t", "needs", "line", "out", "rctx", "fast",
                 "extra", "name")

    def __init__(self, cls: type, args: tuple, ins: list, kw: dict, out_t: Tensor,
                 line: str) -> None:
        self.cls, self.args, self.ins, self.kw, self.out_t, self.line = (cls, args, ins, kw,
                                                                         out_t, line)
        self.needs = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        self.out: Any = None  # the output's array in the tape
        self.rctx: Any = None  # the op's own ctx, for ops replayed by their forward/backward
        self.fast = False  # True when a kernel of jit_kernels replays it
        self.extra: Any = None  # what a kernel keeps between its forward and backward
        self.name = cls.op or cls.__name__


class Tape:
    """A compiled step: its program, the input buffers, and the guards of its recording."""

    def __init__(self) -> None:
        self.program: list[tuple[Any, tuple]] = []
        self.inputs: list[tuple[int, np.ndarray]] = []  # (argument position, its buffer)
        #: (argument position, the (list, index) places of the instructions that read it)
        self.rebinds: list[tuple[int, list]] = []
        self.cells: list[tuple[int, list]] = []  # argument tensors the effects refer to
        self.guarded: list[Tensor] = []  # tensors whose array must stay the recorded one
        self.arrays: list[np.ndarray] = []
        self.attrs: list[tuple[dict, str, Tensor]] = []  # (module.__dict__, name, tensor)
        self.modes: list[tuple[Any, bool]] = []  # (module, training)
        self._attrs: tuple = ((), (), ())  # the two above column-wise (see seal)
        self._modes: tuple = ((), ())
        self.grad_guards: list[tuple[list, bool]] = []  # (cell, .grad was None)
        self.output: Any = None
        self.listing_lines: list[tuple[str, str, str]] = []  # (section, text, shape)
        #: tensors made from NumPy arrays inside the step: (array, line), checked by the
        #: next recording
        self.constants_made: list[tuple[np.ndarray, str]] = []

    def compare_constants(self, other: Tape) -> None:
        """Refuse when a tensor made from a NumPy array inside the step differs between
        this recording and ``other`` (the next one)."""
        for (a, line), (b, _) in zip(self.constants_made, other.constants_made):
            if not _same(a, b):
                raise JitError(f"jit: a tensor made from a NumPy array inside the step "
                               f"({line}) changed from one call to the next; a replay would "
                               "freeze it. Compute it with tensor operations, or pass it in "
                               "as an argument")

    def bind_inputs(self) -> None:
        """Let the instructions read the arguments' own arrays instead of copies, where
        each input buffer appears only as an argument of instructions (no view of it).
        One pass over the program for all the buffers (each owns its memory: a copy)."""
        slots = {id(buf): slot for slot, buf in self.inputs}
        places: dict[int, list | None] = {slot: [] for slot in slots.values()}
        for k, (_, args) in enumerate(self.program):
            for j, a in enumerate(args):
                items = enumerate(a) if type(a) is list else ((None, a),)
                for m, e in items:  # (a generic op's list of input arrays: its items)
                    slot = slots.get(id(e))
                    if slot is not None:
                        if places[slot] is not None:
                            places[slot].append((k, j, m))
                        continue
                    owner = _owner(e) if isinstance(e, np.ndarray) else None
                    if owner is not None:
                        if id(owner) in slots:  # a view of an input buffer
                            places[slots[id(owner)]] = None
                        continue
                    if type(e) not in (int, float, bool, str, type(None)):
                        for slot, buf in self.inputs:
                            if places[slot] is not None and _holds(e, buf):
                                places[slot] = None
        copies = []
        for slot, buf in self.inputs:
            where = places[slot]
            if where is None or _holds(self.output, buf):
                copies.append((slot, buf))
            else:
                self.rebinds.append((slot, [self._holder(k, j, m) for k, j, m in where]))
        self.inputs = copies

    def _holder(self, k: int, j: int, m: int | None) -> tuple[list, int]:
        """(list, index) where instruction ``k`` holds argument ``j`` (item ``m`` of it):
        the instruction's arguments become a list, so a replay rebinds them in place."""
        f, args = self.program[k]
        if type(args) is not list:
            args = list(args)
            self.program[k] = (f, args)
        return (args, j) if m is None else (args[j], m)

    def valid(self, args: tuple) -> bool:
        """Whether the guards of the recording still hold for a call with ``args``."""
        for slot, cell in self.cells:
            cell[0] = args[slot]
        if not all(map(is_, map(_data, self.guarded), self.arrays)):
            return False
        dicts, names, tensors = self._attrs
        if not all(map(is_, map(dict.get, dicts, names), tensors)):
            return False
        modules, modes = self._modes
        if not all(map(is_, map(_training, modules), modes)):
            return False
        for cell, none in self.grad_guards:
            if (cell[0].grad is None) is not none:
                return False
        return True

    def seal(self) -> None:
        """Lay the module guards out column-wise, as :meth:`valid` checks them."""
        self._attrs = tuple(zip(*self.attrs)) or ((), (), ())
        self._modes = tuple(zip(*self.modes)) or ((), ())

    def grads_set(self) -> set[int]:
        """ids of the guarded tensors whose ``.grad`` is set now (for the next recording)."""
        return {id(cell[0]) for cell, _ in self.grad_guards if cell[0].grad is not None}

    def run(self, args: tuple) -> Any:
        """Replay the step on ``args`` (after :meth:`valid` said yes)."""
        copyto, program = np.copyto, self.program
        for slot, buf in self.inputs:
            a = args[slot]
            copyto(buf, a.data if type(a) is Tensor else a)
        for slot, places in self.rebinds:
            a = args[slot]
            arr = a.data if type(a) is Tensor else a
            for held, i in places:
                held[i] = arr
        for f, a in program:
            f(*a)
        return _rebuild(self.output, args)

    def listing(self) -> str:
        return jit_kernels.format_listing(self.listing_lines)


def _same(a: Any, b: np.ndarray) -> bool:
    """Whether ``a`` has ``b``'s shape and values, NaN equal to NaN (the NaN-aware
    comparison, which copies, only when the plain one finds a difference)."""
    return np.shape(a) == b.shape and (np.array_equal(a, b) or (
        b.dtype.kind in "fc" and np.array_equal(a, b, equal_nan=True)))


def _holds(a: Any, buf: np.ndarray) -> bool:
    """Whether ``a`` is or may hold a view of ``buf`` (where an argument cannot be swapped)."""
    if isinstance(a, np.ndarray):
        return _overlaps(a, buf)
    if type(a) in (tuple, list):
        return any(_holds(x, buf) for x in a)
    if type(a) is dict:
        return any(_holds(x, buf) for x in a.values())
    return isinstance(a, _Out) and a.buf is not None and _holds(a.buf, buf)


def _overlaps(a: np.ndarray, buf: np.ndarray) -> bool:
    """Whether ``a`` may share memory with ``buf``: by the arrays owning their memory where
    both are known, which costs far less than ``np.may_share_memory`` (called otherwise)."""
    owner, mine = _owner(a), _owner(buf)
    if owner is not None and mine is not None:
        return owner is mine
    return np.may_share_memory(a, buf)


# ------------------------------------------------------------------------------ outputs
class _Out:
    """A returned tensor: a fresh copy of its buffer, or an argument given back."""

    __slots__ = ("buf", "slot")

    def __init__(self, buf: np.ndarray | None, slot: int | None) -> None:
        self.buf, self.slot = buf, slot


def _rebuild(template: Any, args: tuple) -> Any:
    if type(template) is _Out:
        if template.slot is not None:
            return args[template.slot]
        return Tensor._make(template.buf.copy(), False)
    if type(template) in (tuple, list):
        return type(template)(_rebuild(t, args) for t in template)
    if type(template) is dict:
        return {k: _rebuild(v, args) for k, v in template.items()}
    return template


# ------------------------------------------------------------------------------ effects
def _set_grads_none(cells: list[list]) -> None:
    for cell in cells:
        cell[0].grad = None


def _set_grads(pairs: list[tuple[list, np.ndarray]]) -> None:
    for cell, buf in pairs:
        cell[0].grad = buf


def _add_grad(cell: list, buf: np.ndarray) -> None:
    """The engine's rule for a ``.grad`` nobody reset: set it, or add to it."""
    t = cell[0]
    t.grad = buf.copy() if t.grad is None else t.grad + buf


def _draw_into(buf: np.ndarray, draw: Any, shape: tuple, keep_prob: float) -> None:
    np.copyto(buf, draw(shape, keep_prob))


def _run_forward(fwd: Any, ctx: Any, ins: list, kw: dict, out: np.ndarray) -> None:
    np.copyto(out, fwd(ctx, *ins, **kw))


def _run_backward(bwd: Any, ctx: Any, g: np.ndarray, args: tuple, slots: list,
                  name: str) -> None:
    raw = _grads(bwd(ctx, g), args)
    for i, dest in slots:
        r = raw[i]
        if r is None:
            raise JitError(f"jit: {name}.backward returned no gradient for input {i} on a "
                           "replay, but did when recorded")
        np.copyto(dest, _conformed(r, dest.shape), casting="unsafe")


def _grads(raw: Any, args: tuple) -> tuple:
    """A backward's result as one entry per argument (as the engine spreads it)."""
    if type(raw) is not tuple:
        raw = tuple(raw) if type(raw) is list else (raw,)
    if len(raw) != len(args):
        slots = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        full: list = [None] * len(args)
        for i, r in zip(slots, raw):
            full[i] = r
        raw = tuple(full)
    return raw


def _conformed(g: Any, shape: tuple) -> np.ndarray:
    g = np.asarray(g)
    return g if g.shape == shape else autograd.unbroadcast(g, shape)


def _replay_class(cls: type) -> type:
    """``cls`` whose ``save_for_backward`` keeps the arrays without locking them."""
    sub = _REPLAY.get(cls)
    if sub is None:
        sub = _REPLAY[cls] = type(cls.__name__, (cls,), {"__slots__": (),
                                                         "save_for_backward": _keep})
    return sub


def _keep(self: Any, *arrays: Any) -> None:
    self.saved = arrays


_REPLAY: dict[type, type] = {}


# ------------------------------------------------------------------------------ compiler
class Compiler:
    """Turns the events of the recorder of :mod:`tinygrad_ng.jit` into a :class:`Tape`."""

    def __init__(self, rec: Any) -> None:
        self.rec, self.tape = rec, Tape()
        self.values: dict[int, Any] = {}  # id(tensor) -> its array in the tape
        self.arrays: dict[int, np.ndarray] = {}  # id(recorded array) -> the tape's array
        self.dicts: dict[int, dict] = {}  # id(recorded kwarg dict) -> the tape's dict
        self.nodes: list[Node] = []  # graph nodes, in creation order
        self.validating = True  # until the first optimiser step changes the parameters
        self.fresh: set[int] = set()  # ids of gradient arrays made by the tape
        self.constants: set[int] = set()  # ids of arrays no instruction writes (seeds)
        self.handed: set[int] = set()  # ... already given to some .grad
        self.reset: set[int] = set()  # ids of tensors reset by zero_grad, not yet stored
        self.checks: dict[int, tuple[Tensor, np.ndarray]] = {}  # .grad to compare
        self.covered: set[int] = set()  # ids of arrays a recorded effect may change
        self.cellmap: dict[int, list] = {}
        self.grads_to_set: list[tuple[list, np.ndarray]] = []  # (cell, gradient) of a pass
        self.names = jit_kernels.Names()

    # ---------------------------------------------------------------- emitting
    def emit(self, f: Any, *args: Any, effect: bool = False) -> None:
        """Append ``f(*args)`` to the program; run it now unless it is an effect."""
        self.tape.program.append((f, args))
        if not effect:
            f(*args)

    def line(self, section: str, text: str, value: Any = None) -> None:
        shape = "" if value is None else "×".join(map(str, np.shape(value))) or "scalar"
        self.tape.listing_lines.append((section, text, shape))

    def new(self, like: np.ndarray, shape: tuple | None = None, dtype: Any = None
            ) -> np.ndarray:
        """A fresh array for a gradient (counted as the tape's own)."""
        a = np.empty(like.shape if shape is None else shape,
                     like.dtype if dtype is None else dtype)
        self.fresh.add(id(a))
        return a

    def like(self, result: Any) -> np.ndarray:
        """A fresh array for a gradient, laid out as NumPy laid out ``result`` (computed
        without ``out=``): sums and matrix products then see the eager memory layouts, so
        they add in the same order."""
        a = np.empty_like(result)
        self.fresh.add(id(a))
        return a

    def cell(self, t: Tensor) -> list:
        """A one-item list holding ``t``; for an argument tensor, refilled on each call."""
        c = self.cellmap.get(id(t))
        if c is None:
            c = self.cellmap[id(t)] = [t]
            for slot, a in enumerate(self.rec.args):
                if a is t:
                    self.tape.cells.append((slot, c))
        return c

    # ---------------------------------------------------------------- values
    def value(self, t: Tensor) -> Any:
        """The tape's array for tensor ``t``."""
        b = self.values.get(id(t))
        if b is not None:
            return b
        b = self.arrays.get(id(t.data))
        if b is None:
            made = self.rec.created.get(id(t))
            b = self.converted(t, made) if made is not None else self.state(t)
        self.values[id(t)] = b
        return b

    def state(self, t: Tensor) -> np.ndarray:
        """A tensor the step did not make (a parameter, a buffer): read live, guarded."""
        first = self.rec.first.get(id(t))
        arr = t.data if first is None else first[1]
        if t.data is not arr:
            raise JitError(f"jit: the step replaced the array of a tensor of shape {t.shape} "
                           "(t.data = …, or opt.step() on a parameter still saved for a "
                           "backward pass); a replay would keep using the old array")
        self.guard(t)
        self.names.leaf(t, arr)
        return arr

    def guard(self, t: Tensor) -> None:
        if not any(g is t for g in self.tape.guarded):
            self.tape.guarded.append(t)
            self.tape.arrays.append(t.data)

    def converted(self, t: Tensor, made: tuple) -> np.ndarray:
        """A tensor made inside the step: ``Tensor(x)`` of an argument or a value (replayed,
        converted to its dtype), or else a constant (e.g. made from a new NumPy array)."""
        _, data, line = made
        src = None
        if type(data) is Tensor:
            src = self.values.get(id(data))
        elif isinstance(data, np.ndarray):
            src = self.arrays.get(id(data))
        if src is None:
            if line is not None:
                self.tape.constants_made.append((t.data, line))
            return t.data
        buf = t.data.copy()
        self.emit(np.copyto, buf, src, "unsafe")
        self.names.alias(buf, src)
        return buf

    def kwarg(self, v: Any) -> Any:
        if isinstance(v, np.ndarray):
            return self.arrays.get(id(v), v)
        if type(v) is dict:  # (batch norm's batch_stats: filled by the forward)
            d = self.dicts[id(v)] = {}
            return d
        if type(v) is tuple:
            return tuple(self.kwarg(x) for x in v)
        return v

    def check(self, ours: Any, eager: np.ndarray, what: str) -> None:
        if ours is eager:
            return
        if not _same(ours, eager):
            raise JitError(f"jit: replaying {what} did not give the eager value: the step "
                           "probably changes arrays with NumPy (t.data[...] = …, in-place "
                           "operations on .data or .grad) where tg.jit cannot see it")

    # ---------------------------------------------------------------- events
    def compile(self, result: Any) -> Tape:
        rec = self.rec
        for slot, a in enumerate(rec.args):
            if type(a) is Tensor or isinstance(a, np.ndarray):
                arr = a.data if type(a) is Tensor else a
                buf = arr.copy(order="K")
                self.tape.inputs.append((slot, buf))
                self.arrays[id(arr)] = buf
                if type(a) is Tensor:
                    self.values[id(a)] = buf
                self.names.input(buf, a, rec.names[slot])
        restore = self._swap_in_snapshots()
        try:
            for event in rec.events:
                getattr(self, "on_" + event[0])(*event[1:])
        finally:
            for arr, now in restore:
                arr[...] = now
        changed = [a for a, _ in restore if id(a) not in self.covered]
        if changed:
            raise JitError(f"jit: the step changed an array of shape {changed[0].shape} "
                           "outside tinygrad_ng's ops and optimisers (NumPy on .data?); a "
                           "replay would not")
        for leaf, buf in self.checks.values():
            if leaf.grad is not None:
                self.check(buf, leaf.grad, f"the gradient of a tensor of shape {leaf.shape}")
        self._guard_modules()
        self.tape.seal()
        self.tape.output = self._template(result)
        self.tape.bind_inputs()
        return self.tape

    def _swap_in_snapshots(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Put back the values the step started from; returns what to restore after."""
        restore = []
        for arr, snap in self.rec.snapshots.values():
            if arr.flags.writeable and not _same(arr, snap):
                restore.append((arr, arr.copy()))
                arr[...] = snap
        return restore

    def _guard_modules(self) -> None:
        for module in self.rec.modules.values():
            self.tape.modes.append((module, module.training))
            d = module.__dict__
            for kind in ("_param_names", "_buffer_names"):
                for name in d[kind]:
                    t = d.get(name)
                    if t is not None:
                        self.tape.attrs.append((d, name, t))
                        self.guard(t)

    def _template(self, result: Any) -> Any:
        if isinstance(result, Tensor):
            for slot, a in enumerate(self.rec.args):
                if a is result:
                    return _Out(None, slot)
            buf = self.values.get(id(result))
            if buf is None:  # a tensor the step made but no op touched
                buf = self.value(result)
            return _Out(buf, None)
        if type(result) in (tuple, list):
            return type(result)(self._template(r) for r in result)
        if type(result) is dict:
            return {k: self._template(v) for k, v in result.items()}
        return result

    def on_op(self, cls: type, args: tuple, kwargs: dict, out: Tensor, line: str) -> None:
        ins = [self.value(a) if isinstance(a, Tensor) else
               self.arrays.get(id(a), a) if isinstance(a, np.ndarray) else a for a in args]
        node = Node(cls, args, ins, {k: self.kwarg(v) for k, v in kwargs.items()}, out, line)
        kernel = jit_kernels.FORWARD.get(cls)
        if kernel is None or not kernel(self, node):
            self.generic_forward(node)
        self.values[id(out)] = node.out
        self.arrays[id(out.data)] = node.out
        if out._ctx is not None:
            self.nodes.append(node)
        self.names.op(self, node)
        if self.validating:
            self.check(node.out, out.data, f"{node.name} ({line})")

    def generic_forward(self, node: Node) -> None:
        """Replay an op by its own ``forward``; a view of an input needs no instruction."""
        ctx = _replay_class(node.cls).__new__(_replay_class(node.cls))
        ctx.saved = ctx.locked = None
        ctx.parents, ctx.needs_input_grad = node.args, node.needs
        fwd, ins, kw = node.cls.forward, node.ins, node.kw
        res = fwd(ctx, *ins, **kw)
        node.rctx = ctx
        if isinstance(res, np.ndarray) and any(
                isinstance(b, np.ndarray) and np.may_share_memory(res, b) for b in ins):
            node.out = res
            return
        node.out = np.empty_like(node.out_t.data)
        np.copyto(node.out, res)
        self.tape.program.append((_run_forward, (fwd, ctx, ins, kw, node.out)))

    def on_convert(self, src: Tensor, res: Tensor) -> None:
        """A tensor in another dtype (``x * 0.5`` on integers, ``x.astype(...)``)."""
        buf = res.data.copy()
        source = self.value(src)
        self.emit(np.copyto, buf, source, "unsafe")
        self.values[id(res)] = buf
        self.arrays[id(res.data)] = buf
        self.names.alias(buf, source)

    def on_compare(self, ufunc: Any, a: Tensor, other: Any, out: Tensor) -> None:
        o = self.value(other) if isinstance(other, Tensor) else other
        buf = out.data.copy()
        self.emit(ufunc, self.value(a), o, buf)
        self.values[id(out)] = buf
        self.arrays[id(out.data)] = buf
        self.names.compare(self, ufunc, a, other, buf)

    def on_mask(self, shape: tuple, keep_prob: float, mask: np.ndarray) -> None:
        buf = mask.copy()
        draw = sys.modules["tinygrad_ng.functional.dropout"].draw_mask
        self.emit(_draw_into, buf, draw, shape, keep_prob, effect=True)
        self.arrays[id(mask)] = buf
        self.names.mask(self, buf, shape, keep_prob)

    def on_running(self, mean: np.ndarray, var: np.ndarray, batch: dict,
                   momentum: float) -> None:
        update = sys.modules["tinygrad_ng.functional.normalization"].update_running_stats
        self.emit(update, mean, var, self.dicts[id(batch)], momentum, effect=True)
        self.covered.update((id(mean), id(var)))
        self.line("forward", f"running μ, σ² ← (1 − {momentum:g})·running + {momentum:g}·"
                             "batch μ, σ²")

    def on_zero(self, tensors: list[Tensor]) -> None:
        self.emit(_set_grads_none, [self.cell(t) for t in tensors], effect=True)
        for t in tensors:
            self.reset.add(id(t))
            self.checks.pop(id(t), None)

    def on_step(self, opt: Any, line: str) -> None:
        groups = flat_groups(self, opt)
        chunks = None if groups is not None else sgd_chunks(self, opt)
        if groups is not None:
            self.emit(_flat_step, opt, groups, effect=True)
        elif chunks is not None:
            self.emit(_sgd_step, opt, chunks, effect=True)
        else:
            self.emit(opt.step, effect=True)
        self.validating = False
        for group in opt.param_groups:
            for p in group["params"]:
                self.covered.add(id(p.data))
        self.names.update(self, opt)

    def returns(self, buf: np.ndarray) -> bool:
        """Whether what the step returns holds ``buf`` (so it cannot be swapped)."""
        return _holds(self.tape.output, buf)

    def on_backward(self, root: Tensor, grad: Any, leaves: dict, line: str) -> None:
        seed = self.seed(root, grad)
        pending: dict[int, list] = {id(root): [seed]}
        tensors = {id(root): root}
        self.names.seed(self, root, seed)
        for node in reversed(self.nodes):
            contribs = pending.pop(id(node.out_t), None)
            if contribs is None:
                continue
            g = self.total(contribs, node.out_t)
            kernel = jit_kernels.BACKWARD.get(node.cls)
            grads = kernel(self, node, g) if kernel else None
            if grads is None:
                grads = self.generic_backward(node, g)
            else:
                self.names.generic_backward(self, node, g, grads)
            for parent, need, gb in zip(node.args, node.needs, grads):
                if need and gb is not None:
                    gb = self.conform(gb, parent)
                    pending.setdefault(id(parent), []).append(gb)
                    tensors[id(parent)] = parent
        for key, contribs in pending.items():
            leaf = tensors[key]
            if leaf._ctx is not None:
                raise JitError(f"jit: backward ({line}) reaches a graph built before the step "
                               "was called; compute it inside the step, or detach() it")
            self.store(leaf, self.total(contribs, leaf), leaves.get(key, True))
        if self.grads_to_set:
            self.emit(_set_grads, self.grads_to_set, effect=True)
            self.grads_to_set = []

    def seed(self, root: Tensor, grad: Any) -> np.ndarray:
        src = (self.value(grad) if isinstance(grad, Tensor) else
               self.arrays.get(id(grad)) if isinstance(grad, np.ndarray) else None)
        if src is None:  # ones, or a constant of the step
            seed = (np.ones(root.data.shape, root.data.dtype) if grad is None else
                    root._seed(grad, "backward"))
            self.constants.add(id(seed))
            return seed
        if np.shape(src) != root.data.shape:
            raise JitError(f"jit: backward's grad has shape {np.shape(src)}, the tensor "
                           f"{root.data.shape}")
        seed = np.empty(root.data.shape, root.data.dtype)
        self.emit(np.copyto, seed, src, "unsafe")
        return seed

    def total(self, contribs: list, t: Tensor) -> np.ndarray:
        """The sum of the gradients that reached ``t``, added in the engine's order."""
        if len(contribs) == 1:
            return contribs[0]
        acc = self.like(np.add(contribs[0], contribs[1]))
        self.emit(np.add, contribs[0], contribs[1], acc)
        for c in contribs[2:]:
            self.emit(np.add, acc, c, acc)
        self.names.total(self, t, contribs, acc)
        return acc

    def conform(self, g: np.ndarray, parent: Tensor) -> np.ndarray:
        """The engine's un-broadcast and cast of a gradient to its input's shape and dtype."""
        shape, dtype = parent.data.shape, parent.data.dtype
        before = g
        if g.shape != shape:
            extra = g.ndim - len(shape)
            if extra:
                t = self.like(np.add.reduce(g, tuple(range(extra))))
                self.emit(np.add.reduce, g, tuple(range(extra)), None, t, False)
                g = t
            axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
            if axes:
                t = self.like(np.add.reduce(g, axes, None, None, True))
                self.emit(np.add.reduce, g, axes, None, t, True)
                g = t
            if g.shape != shape:
                raise JitError(f"jit: a gradient of shape {g.shape} for an input of shape "
                               f"{shape}")
        if g.dtype != dtype:
            t = self.like(g.astype(dtype))
            self.emit(np.copyto, t, g, "unsafe")
            g = t
        if g is not before:
            self.names.conform(self, parent, before, g)
        return g

    def generic_backward(self, node: Node, g: np.ndarray) -> list:
        ctx = node.rctx
        bwd = type(ctx).backward
        raw = _grads(bwd(ctx, g), node.args)
        fixed = [a for a in (g, node.out, *node.ins) if isinstance(a, np.ndarray)]
        slots, grads = [], [None] * len(node.args)
        for i, (p, need) in enumerate(zip(node.args, node.needs)):
            if need and raw[i] is not None:
                r = _conformed(raw[i], p.data.shape)
                if r.dtype == p.data.dtype and any(np.may_share_memory(r, a) for a in fixed):
                    grads[i] = r  # a view of the tape's arrays (sum's broadcast of g)
                    continue
                dest = self.like(r.astype(p.data.dtype, copy=False))
                np.copyto(dest, r, casting="unsafe")
                slots.append((i, dest))
                grads[i] = dest
        if slots:
            self.tape.program.append((_run_backward, (bwd, ctx, g, node.args, slots,
                                                      f"{node.name} ({node.line})")))
        self.names.generic_backward(self, node, g, grads)
        return grads

    def store(self, leaf: Tensor, buf: np.ndarray, was_none: bool) -> None:
        """Give ``leaf`` its gradient as the engine does (a fresh array, or a sum)."""
        cell = self.cell(leaf)
        if id(leaf) in self.reset:
            if id(buf) not in self.fresh or id(buf) in self.handed or buf.base is not None:
                own = self.new(buf)
                self.emit(np.copyto, own, buf)
                buf = own
            self.handed.add(id(buf))
            self.grads_to_set.append((cell, buf))
            self.checks[id(leaf)] = (leaf, buf)
            self.reset.discard(id(leaf))
        else:
            self.emit(_add_grad, cell, buf, effect=True)
            self.tape.grad_guards.append((cell, was_none))
            self.checks.pop(id(leaf), None)


def compile_tape(rec: Any, result: Any) -> Tape:
    """The tape of a recorded call (``result``: what the step returned)."""
    return Compiler(rec).compile(result)
