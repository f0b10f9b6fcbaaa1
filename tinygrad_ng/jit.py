"""``tg.jit``: record a training step once, replay it as a flat list of NumPy calls.

    step = tg.jit(train_step)       # train_step(X, Y): zero_grad, forward, backward, opt.step()
    for X, Y in loader:
        loss = step(X, Y)           # the first call runs eagerly and records; later calls replay
    print(step.tape())              # the recorded Wengert list, in the course's notation

**Recording.** The first call runs ``fn`` eagerly, exactly as without ``jit``, while the
public entry points it goes through are observed: every ``Function.apply`` (the ops),
``Tensor.backward``, ``Optimizer.step`` and the ``zero_grad`` methods, dropout's mask draws,
batch norm's running-statistics update, comparisons and dtype conversions of tensors. Nothing
is added to those hot paths: the observers are installed for the recording call only, and
act on the recording thread only.

**Compiling.** The recorded ops become a *tape*: a list of ``(function, arguments)`` pairs
over arrays allocated once. Common ops (``jit_kernels``) are written as NumPy calls with
``out=`` buffers; any other op runs its own ``forward``/``backward`` and copies the result
into its buffer. The backward pass is laid out by the engine's rules (reverse creation order,
gradients summed to the input's shape and dtype, paths added in the same order), so a replay
computes the same bits as the eager step. The optimiser's ``step()`` and the other side
effects (``zero_grad``, dropout masks drawn fresh from the library's generator, running
statistics) are replayed in their places. An elementwise optimiser's update of a small
group runs once on the group laid end to end, as ``Optimizer.step`` does: the tape's
gradients are slices of one flat array (so nothing is joined; each ``.grad`` is such a
slice), the weights are joined only for rules that read them (weight decay, or an
``update`` not declared ``update_reads_weights = False``), and Adam computes in scratch
arrays of the tape. Plain SGD (no momentum, no weight decay) is replayed as the
optimiser's ``lr·dW`` and ``W -= …``, a chunk at a time through one scratch buffer. All of
these run the optimiser's own NumPy operations on the same values, so the parameters
stay bit-for-bit those of the eager step. While compiling, the tape is run once on the
recorded inputs and every value is compared with the eager one: a step that changes arrays
behind the engine's back (NumPy on ``.data`` or ``.grad``) is refused, not replayed wrongly.

**Replaying.** A later call copies its inputs into the tape's input buffers and runs the
list: no Tensor, graph node, lock or heap per op. It returns what ``fn`` returned, with
each tensor a fresh detached copy of its value.

**Guards.** A tape is replayed only when the call matches its recording: the shapes, dtypes
and ``requires_grad`` of the tensor arguments, the values of the other arguments, grad mode,
the train/eval mode of every module called, and the identity of every parameter and buffer
used (``param.data = …`` and ``load_state_dict`` give new arrays, so they re-record). Up to
``cache_size`` tapes are kept, one per argument signature (so the last, smaller batch of an
epoch does not re-record every epoch).

**Refused** (``JitError``, naming the line): reading a tensor's value inside the step
(``.item()``, ``float(t)``, ``bool(t)``, ``.tolist()``), since Python control flow would be
frozen at the recorded branch; random draws other than dropout's; ``tg.grad``,
``create_graph`` and ``retain_grads``; ``.grad = None`` set by hand (use ``zero_grad()``).
A tensor made inside the step from a NumPy array (``tg.Tensor(np.ones(3))``, or library code
computing with NumPy) is a constant of the tape; when a step makes one, the next call records
once more and the step is refused if the two differ (they depend on the data or the
parameters: compute them with tensor operations instead). Not detected: other Python side
effects (appending to a list, printing) happen only while recording. The call that records
runs eagerly, so a step refused while compiling has still run once.
"""

from __future__ import annotations

import functools
import inspect
import linecache
import os
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

from . import autograd, random
from .autograd import state
from .function import Function
from .jit_compile import JitError, compile_tape
from .tensor import Tensor

__all__ = ["Jit", "JitError", "TapeText", "jit"]


def jit(fn: Callable | None = None, *, cache_size: int = 8) -> Any:
    """Compile ``fn`` (a training or inference step) into a replayable tape.

    ``step = tg.jit(fn)`` (or ``@tg.jit``) behaves as ``fn``: the first call with a new
    signature runs ``fn`` eagerly and records it; later calls replay the recording as flat
    NumPy. ``step.tape()`` prints the recorded operations. See :mod:`tinygrad_ng.jit`.
    """
    if fn is None:
        return functools.partial(jit, cache_size=cache_size)
    if not callable(fn):
        raise TypeError(f"jit: expected a function, got {type(fn).__name__}")
    if not isinstance(cache_size, int) or cache_size < 1:
        raise ValueError(f"jit: cache_size must be a positive int, got {cache_size!r}")
    return Jit(fn, cache_size)


class Jit:
    """A compiled step: call it as the function it wraps (made by :func:`jit`)."""

    def __init__(self, fn: Callable, cache_size: int) -> None:
        functools.update_wrapper(self, fn)
        self.fn, self.cache_size = fn, cache_size
        self.cache: OrderedDict[tuple, Any] = OrderedDict()
        #: How many times ``fn`` was recorded (the first call, and each failed guard).
        self.recordings = 0
        self._last = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        rec = _active[0]
        if (rec is not None and rec.thread == threading.get_ident()) or state.anomaly:
            # inside another step's recording (then part of it), or under detect_anomaly()
            # (whose checks of every op a replay would skip): eagerly
            return self.fn(*args, **kwargs)
        if kwargs:
            args = (*args, *kwargs.values())
        key = _signature(args, tuple(kwargs))
        tape = self.cache.get(key)
        if tape is not None and tape.valid(args):
            if tape.constants_made:  # record once more: are they constants?
                return self._record(key, args, kwargs, check=tape)
            self._last = tape
            self.cache.move_to_end(key)  # (least recently used first out)
            return tape.run(args)
        return self._record(key, args, kwargs)

    def _record(self, key: tuple, args: tuple, kwargs: dict, check: Any = None) -> Any:
        """Run ``fn`` eagerly and record it. ``check``: the previous tape of this signature,
        whose tensors made from NumPy arrays inside the step must come out the same again
        (else they depend on the data and a replay would freeze them)."""
        n = len(args) - len(kwargs)
        if _active[0] is not None:  # another thread is recording: run eagerly this time
            return self.fn(*args[:n], **dict(zip(kwargs, args[n:])))
        names = _arg_names(self.fn, n, tuple(kwargs))
        stale = self.cache.get(key)  # a tape whose guards failed tells which grads were set
        recorder = _Recorder(args, names, set() if stale is None else stale.grads_set())
        with recorder:
            result = self.fn(*args[:n], **dict(zip(kwargs, args[n:])))
        self.recordings += 1
        tape = compile_tape(recorder, result)
        if check is not None:
            check.compare_constants(tape)
            tape.constants_made = []
        self.cache.pop(key, None)
        self.cache[key] = tape
        if len(self.cache) > self.cache_size:
            self.cache.popitem(last=False)
        self._last = tape
        return result

    def tape(self) -> TapeText:
        """The last tape run, as the course writes it: the forward pass (``Z1 = X @ W1ᵀ +
        b1``, ``A1 = relu(Z1)``, …), the backward pass (``dZ2 = …``, ``dW2 = dZ2ᵀ @ A1``, …)
        and the updates, one operation a line with its shape."""
        if self._last is None:
            raise RuntimeError(f"{getattr(self, '__name__', 'step')}.tape(): nothing recorded "
                               "yet; call the step once first")
        return TapeText(self._last.listing())


class TapeText(str):
    """The printed tape: a ``str`` that a notebook displays as it prints."""

    def __repr__(self) -> str:
        return str(self)


def _signature(args: tuple, kw_names: tuple) -> tuple:
    """The cache key of a call: what a tape's buffers depend on, and grad mode."""
    key: list = [state.grad, kw_names]
    for a in args:
        if type(a) is Tensor:
            d = a.data
            key.append((d.shape, d.dtype.char, a.requires_grad))
        elif isinstance(a, np.ndarray):
            key.append((a.shape, a.dtype.char))
        else:
            try:
                hash(a)
                key.append((type(a), a))
            except TypeError:
                key.append(id(a))
    return tuple(key)


@functools.lru_cache(maxsize=64)
def _signature_of(fn: Callable) -> inspect.Signature:
    """``inspect.signature(fn)``, kept: the observers ask for the same few on every recording."""
    return inspect.signature(fn)


def _arg_names(fn: Callable, n_positional: int, kw_names: tuple) -> list[str]:
    """The names of the call's arguments (``X``, ``Y``), for the printed tape."""
    try:
        params = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        params = []
    names = [params[i] if i < len(params) else f"arg{i}" for i in range(n_positional)]
    return names + list(kw_names)


# ============================================================================ recording
_active: list = [None]  # the recorder of the call being recorded (one at a time)
_package: list[tuple[str, ...]] = []  # the folders of the library's code


class _Where:
    """The line of user code running now (the innermost frame outside the library), kept
    as file and line number and formatted only when a message needs it: an op's recording
    takes a microsecond, not a stack walk with path arithmetic."""

    __slots__ = ("file", "line")

    def __init__(self) -> None:
        if not _package:
            import tinygrad_ng.nn
            import tinygrad_ng.optim

            _package.append(tuple(os.path.dirname(m.__file__) + os.sep for m in (
                sys.modules["tinygrad_ng"], tinygrad_ng.nn, tinygrad_ng.optim)))
        inside, f = _package[0], sys._getframe(1)
        while f is not None and f.f_code.co_filename.startswith(inside):
            f = f.f_back
        self.file, self.line = (f.f_code.co_filename, f.f_lineno) if f else ("?", 0)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {linecache.getline(self.file, self.line).strip()}"


def _recorder() -> _Recorder | None:
    """The recorder observing this thread, if any."""
    rec = _active[0]
    if rec is None or rec.thread != threading.get_ident() or rec.paused:
        return None
    return rec


class _Recorder:
    """Observes one eager call of the step: installs the observers on entry, removes them on
    exit, and keeps what the compiler needs (the events in order, and every tensor seen)."""

    def __init__(self, args: tuple, names: list[str], grads_set: set[int]) -> None:
        self.args, self.names = args, names
        #: ids of tensors whose ``.grad`` was not None when the call began
        self.grads_set = grads_set | {id(a) for a in args if type(a) is Tensor and
                                      a.grad is not None}
        self.reset: set[int] = set()  # ids of tensors zero_grad() reset during the call
        self.argument_arrays = {id(a.data if type(a) is Tensor else a) for a in args}
        self.thread = threading.get_ident()
        self.paused = False  # inside an optimiser step: its own work is one event
        self.events: list[tuple] = []
        self.modules: dict[int, Any] = {}  # every module called, by id
        self.created: dict[int, tuple] = {}  # tensors made during the call -> their source
        self.first: dict[int, tuple] = {}  # pre-existing tensor -> (tensor, array, grad None)
        self.snapshots: dict[int, tuple] = {}  # id(array) -> (array, copy at first use)
        self._undo: list[tuple] = []

    # ---------------------------------------------------------------- install / remove
    def __enter__(self) -> _Recorder:
        if _active[0] is not None:  # (Jit._record checks first; this is the last guard)
            raise JitError("jit: another thread is recording a compiled step")
        from tinygrad_ng.functional import dropout as _  # noqa: F401  (loads the modules)
        from tinygrad_ng.nn.module import Module
        from tinygrad_ng.optim.optimizer import Optimizer

        dropout_mod = sys.modules["tinygrad_ng.functional.dropout"]
        norm_mod = sys.modules["tinygrad_ng.functional.normalization"]
        rec = self
        patches: list[tuple[Any, str, Any]] = []

        def observe(owner: Any, name: str, make: Callable) -> None:
            original = owner.__dict__[name]
            patches.append((owner, name, make(original)))

        def plain(fn: Any) -> Callable:  # the function behind a classmethod/staticmethod
            return getattr(fn, "__func__", fn)

        def on_apply(orig):
            orig = plain(orig)

            def apply(cls, *args, **kwargs):
                r = _recorder()
                if r is None:
                    return orig(cls, *args, **kwargs)
                r.inputs_of(args, kwargs)  # (before the op locks its inputs)
                out = orig(cls, *args, **kwargs)
                r.events.append(("op", cls, args, kwargs, out, _Where()))
                return out
            return classmethod(apply)

        def on_init(orig):
            def __init__(self, *args, **kwargs):
                orig(self, *args, **kwargs)
                r = _recorder()
                if r is not None:
                    data = args[0] if args else kwargs.get("data")
                    line = _Where() if isinstance(data, np.ndarray) else None
                    r.created[id(self)] = (self, data, line)
            return __init__

        def on_make(orig):
            orig = plain(orig)

            def _make(data, requires_grad):
                t = orig(data, requires_grad)
                r = _recorder()
                if r is not None:
                    r.created[id(t)] = (t, None, None)
                return t
            return staticmethod(_make)

        def on_convert(orig):  # _pair, _floating, astype: a tensor in another dtype
            def convert(self, *args):
                out = orig(self, *args)
                r = _recorder()
                if r is not None:
                    sources = (self, *args[:1]) if type(out) is tuple else (self,)
                    for src, res in zip(sources, out if type(out) is tuple else (out,)):
                        if res is not src and type(src) is Tensor and res._ctx is None:
                            r.events.append(("convert", src, res))
                return out
            return convert

        def on_compare(orig):
            def _compare(self, other, ufunc):
                out = orig(self, other, ufunc)
                r = _recorder()
                if r is not None:
                    r.events.append(("compare", ufunc, self, other, out))
                return out
            return _compare

        def refuse(what: str, hint: str):
            def make(orig):
                def reading(self, *args, **kwargs):
                    if _recorder() is not None:
                        raise JitError(f"jit: {what} reads a tensor's value inside the step "
                                       f"({autograd.user_source_line()}); {hint}")
                    return orig(self, *args, **kwargs)
                return reading
            return make

        value_hint = ("Python code that depends on it would be frozen at this call's branch. "
                      "Return the tensor from the step and read it outside")

        def arguments(fn: Callable, *args: Any, **kwargs: Any) -> dict:
            """The arguments of a call of ``fn`` by name, defaults filled in."""
            bound = _signature_of(fn).bind(*args, **kwargs)
            bound.apply_defaults()
            return bound.arguments

        def on_backward(orig):
            def backward(self, *args, **kwargs):
                r = _recorder()
                if r is not None:
                    a = arguments(orig, self, *args, **kwargs)
                    r.backward(self, a["grad"], a["retain_grads"])
                return orig(self, *args, **kwargs)
            return backward

        def on_backprop(orig):
            def backprop(*args, **kwargs):
                if (_recorder() is not None
                        and arguments(orig, *args, **kwargs)["targets"] is not None):
                    raise JitError(f"jit: tg.grad inside a compiled step is not supported "
                                   f"({autograd.user_source_line()}); use loss.backward()")
                return orig(*args, **kwargs)
            return backprop

        def on_step(orig):
            def step(self, *args, **kwargs):
                r = _recorder()
                if r is None:
                    return orig(self, *args, **kwargs)
                r.events.append(("step", self, autograd.user_source_line()))
                r.paused = True
                try:
                    return orig(self, *args, **kwargs)
                finally:
                    r.paused = False
            return step

        def on_zero(params_of: Callable):
            def make(orig):
                def zero_grad(self, *args, **kwargs):
                    r = _recorder()
                    if r is not None:
                        params = list(params_of(self))
                        r.reset.update(map(id, params))
                        r.events.append(("zero", params))
                    return orig(self, *args, **kwargs)
                return zero_grad
            return make

        def on_call(orig):
            def __call__(self, *args, **kwargs):
                r = _recorder()
                if r is not None:
                    r.modules[id(self)] = self
                return orig(self, *args, **kwargs)
            return __call__

        def on_mask(orig):
            def draw_mask(shape, keep_prob):
                r = _recorder()
                if r is None:
                    return orig(shape, keep_prob)
                r.paused = True  # (its draw from the generator is the one allowed)
                try:
                    mask = orig(shape, keep_prob)
                finally:
                    r.paused = False
                r.events.append(("mask", tuple(shape), keep_prob, mask))
                return mask
            return draw_mask

        def on_draw(orig):
            def draw(*args, **kwargs):
                if _recorder() is not None:
                    raise JitError(f"jit: a random draw inside the step "
                                   f"({autograd.user_source_line()}) would be frozen at this "
                                   "call's values; only dropout masks are drawn again on each "
                                   "replay. Draw outside the step and pass the values in")
                return orig(*args, **kwargs)
            return draw

        def on_running(orig):
            def update_running_stats(running_mean, running_var, batch, momentum):
                r = _recorder()
                if r is not None:
                    r.snapshot(running_mean)
                    r.snapshot(running_var)
                    r.events.append(("running", running_mean, running_var, batch, momentum))
                return orig(running_mean, running_var, batch, momentum)
            return update_running_stats

        observe(Function, "apply", on_apply)
        observe(Tensor, "__init__", on_init)
        observe(Tensor, "_make", on_make)
        observe(Tensor, "_compare", on_compare)
        for name in ("_pair", "_floating", "astype"):
            observe(Tensor, name, on_convert)
        for name, what in (("item", ".item()"), ("__bool__", "bool(tensor)"),
                           ("__float__", "float(tensor)"), ("__int__", "int(tensor)"),
                           ("tolist", ".tolist()")):
            observe(Tensor, name, refuse(what, value_hint))
        observe(Tensor, "backward", on_backward)
        observe(Tensor, "zero_grad", on_zero(lambda t: [t]))
        observe(autograd, "backprop", on_backprop)
        observe(Optimizer, "step", on_step)
        observe(Optimizer, "zero_grad",
                on_zero(lambda o: [p for g in o.param_groups for p in g["params"]]))
        observe(Module, "zero_grad", on_zero(lambda m: m.parameters()))
        observe(Module, "__call__", on_call)
        observe(dropout_mod, "draw_mask", on_mask)
        observe(random, "source", on_draw)
        observe(random, "generator", on_draw)
        observe(norm_mod, "update_running_stats", on_running)
        for owner, name, new in patches:
            self._undo.append((owner, name, owner.__dict__[name]))
            setattr(owner, name, new)
        _active[0] = rec
        return self

    def __exit__(self, *exc: object) -> None:
        _active[0] = None
        for owner, name, original in reversed(self._undo):
            setattr(owner, name, original)
        self._undo.clear()

    # ---------------------------------------------------------------- events
    def inputs_of(self, args: tuple, kwargs: dict) -> None:
        """Note the tensors and arrays an op is about to read."""
        for a in args:
            if type(a) is Tensor:
                self.seen(a)
        for v in kwargs.values():
            for a in (v if isinstance(v, tuple) else (v,)):
                if isinstance(a, np.ndarray):
                    self.snapshot(a)

    def seen(self, t: Tensor) -> None:
        """Note a tensor the step did not make: its array and gradient state as first seen."""
        key = id(t)
        if key in self.first or key in self.created or t._ctx is not None:
            return
        self.first[key] = (t, t.data, t.grad is None)
        self.snapshot(t.data)

    def snapshot(self, a: np.ndarray) -> None:
        if id(a) not in self.snapshots and id(a) not in self.argument_arrays:
            self.snapshots[id(a)] = (a, a.copy())

    def backward(self, root: Tensor, grad: Any, retain_grads: bool) -> None:
        line = autograd.user_source_line()
        if retain_grads:
            raise JitError(f"jit: backward(retain_grads=True) inside the step ({line}) is not "
                           "supported: a replay makes no intermediate tensors")
        leaves = {}  # leaf -> whether its .grad is None now, before this backward
        stack, visited = [root], set()
        while stack:
            t = stack.pop()
            if id(t) in visited or type(t) is not Tensor:
                continue
            visited.add(id(t))
            if t._ctx is None:
                if t.requires_grad:
                    self.seen(t)
                    leaves[id(t)] = t.grad is None
                    if t.grad is None and id(t) in self.grads_set - self.reset:
                        raise JitError(
                            f"jit: the .grad of a tensor of shape {t.shape} was set to None "
                            f"inside the step without zero_grad() (before {line}); a replay "
                            "would not see it. Call opt.zero_grad(), model.zero_grad() or "
                            "t.zero_grad() instead")
            else:
                if t._retains_grad:
                    raise JitError(f"jit: retain_grad() on a tensor of the step ({line}) is "
                                   "not supported: a replay makes no intermediate tensors")
                stack.extend(t._ctx.parents)
        self.events.append(("backward", root, grad, leaves, line))
        self.reset.difference_update(leaves)
