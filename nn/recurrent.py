"""Recurrent layers: ``RNNCell``, ``LSTMCell``, ``GRUCell`` (one step) and ``RNN``, ``LSTM``,
``GRU`` (a whole sequence, stacked layers, both directions), with PyTorch's parameter names,
shapes, gate order and initialisation, so a ``state_dict`` loads into either library.

The maths lives in :mod:`tinygrad_ng.functional.recurrent`: a layer holds the weights and
calls one fused node per layer and direction (``fused=True``, the default: BPTT by hand, at
NumPy speed) or the cells written with Tensor ops, one graph scope per time step
(``fused=False``: for drawing the unrolled network, gates named Γu, Γf, c̃, Γo). Both give
the same numbers.

Truncated backpropagation through time: cut the graph between chunks of a long sequence by
detaching the state you carry over::

    state = None
    for chunk_x, chunk_y in chunks:
        out, state = lstm(chunk_x, state)
        loss = loss_fn(head(out), chunk_y)
        opt.zero_grad(); loss.backward(); opt.step()
        state = tuple(s.detach() for s in state)   # GRU/RNN: state = state.detach()
"""

from __future__ import annotations

import math
from contextlib import nullcontext
from typing import Any

import numpy as np

import tinygrad_ng.functional as F
from tinygrad_ng import autograd
from tinygrad_ng.dtypes import get_default_dtype
from tinygrad_ng.tensor import Tensor, concatenate, stack

from . import init as nn_init
from .layers import _check_features
from .module import Module, Parameter

__all__ = ["GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "RNNCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _nonlinearity(nonlinearity: str, who: str) -> str:
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"{who}: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    return nonlinearity


def _uniform_init(module: Module) -> None:
    """PyTorch's default for recurrent layers: every weight and bias U(−1/√H, 1/√H)."""
    bound = 1 / math.sqrt(module.hidden_size)
    for p in module.parameters():
        nn_init.uniform_(p, -bound, bound)


def _shape_text(shape: tuple) -> str:
    return str(tuple(int(n) for n in shape))


def _state(hx: Any, expected: tuple, dtype: np.dtype, who: str, name: str,
           hint: str) -> Tensor:
    """An initial state as a float tensor of the ``expected`` shape (zeros for None)."""
    if hx is None:
        return Tensor(np.zeros(expected, dtype=dtype))
    h = F._float_tensor(hx)
    if h.shape != expected:
        raise ValueError(f"{who}: expected {name} of shape {_shape_text(expected)} ({hint}), "
                         f"got {_shape_text(h.shape)}")
    return h


# ----------------------------------------------------------------------------- cells


class _CellBase(Module):
    """The weights of one recurrent step: ``weight_ih`` (G·H, I), ``weight_hh`` (G·H, H),
    ``bias_ih`` and ``bias_hh`` (G·H,), G the number of gate blocks."""

    gates = 1

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 dtype: Any = None) -> None:
        super().__init__()
        who = type(self).__name__
        self.input_size = _check_features(input_size, who, "input_size")
        self.hidden_size = _check_features(hidden_size, who, "hidden_size")
        self.bias = bool(bias)
        dt = get_default_dtype() if dtype is None else np.dtype(dtype)
        G, H = self.gates * hidden_size, hidden_size
        self.weight_ih = Parameter(np.zeros((G, input_size), dtype=dt))
        self.weight_hh = Parameter(np.zeros((G, H), dtype=dt))
        self.bias_ih = Parameter(np.zeros(G, dtype=dt)) if bias else None
        self.bias_hh = Parameter(np.zeros(G, dtype=dt)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Fresh weights and biases, U(−1/√H, 1/√H) (PyTorch's default)."""
        _uniform_init(self)

    def _inputs(self, x: Any) -> tuple[Tensor, bool]:
        """(x as (B, I), whether x was a single unbatched example)."""
        who = type(self).__name__
        x = F._float_tensor(x)
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ValueError(f"{who}: expected input of shape (batch, {self.input_size}) or "
                             f"({self.input_size},), got {_shape_text(x.shape)}")
        return (x.reshape(1, -1), True) if x.ndim == 1 else (x, False)

    def _hidden(self, hx: Any, batch: int, unbatched: bool, name: str = "hx") -> Tensor:
        shape = (self.hidden_size,) if unbatched else (batch, self.hidden_size)
        h = _state(hx, shape, self.weight_hh.dtype, type(self).__name__, name,
                   "(batch, hidden_size)" if not unbatched else "(hidden_size,)")
        return h.reshape(1, -1) if unbatched else h

    def _weights(self) -> tuple:
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class RNNCell(_CellBase):
    """One step of the basic RNN: h' = tanh(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh) (the course's
    a⟨t⟩ = tanh(W_ax x⟨t⟩ + W_aa a⟨t−1⟩ + b_a)); ``nonlinearity="relu"`` for ReLU.

    ``cell(x, h)``: x (B, I) or (I,), h (B, H) or None (zeros) → h' (B, H).
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", dtype: Any = None) -> None:
        _nonlinearity(nonlinearity, "RNNCell")
        super().__init__(input_size, hidden_size, bias, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Any, hx: Any = None) -> Tensor:  # noqa: A002 (PyTorch's name)
        x, unbatched = self._inputs(input)
        h = F.rnn_cell(x, self._hidden(hx, x.shape[0], unbatched), *self._weights(),
                       nonlinearity=self.nonlinearity)
        return h.reshape(-1) if unbatched else h

    def extra_repr(self) -> str:
        return super().extra_repr() + (", nonlinearity='relu'"
                                       if self.nonlinearity == "relu" else "")


class LSTMCell(_CellBase):
    """One LSTM step: ``cell(x, (h, c))`` → (h', c') with PyTorch's gate blocks i, f, g, o
    (the course's Γu, Γf, c̃, Γo; see :func:`tinygrad_ng.functional.lstm_cell`)."""

    gates = 4

    def forward(self, input: Any, hx: Any = None) -> tuple[Tensor, Tensor]:  # noqa: A002
        x, unbatched = self._inputs(input)
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError("LSTMCell: hx must be a pair (h, c) or None")
        h0, c0 = (None, None) if hx is None else hx
        B = x.shape[0]
        h, c = F.lstm_cell(x, (self._hidden(h0, B, unbatched, "h"),
                               self._hidden(c0, B, unbatched, "c")), *self._weights())
        return (h.reshape(-1), c.reshape(-1)) if unbatched else (h, c)


class GRUCell(_CellBase):
    """One GRU step: ``cell(x, h)`` → h' with PyTorch's gate blocks r, z, n (the course's
    Γr, 1 − Γu, c̃; see :func:`tinygrad_ng.functional.gru_cell`)."""

    gates = 3

    def forward(self, input: Any, hx: Any = None) -> Tensor:  # noqa: A002 (PyTorch's name)
        x, unbatched = self._inputs(input)
        h = F.gru_cell(x, self._hidden(hx, x.shape[0], unbatched), *self._weights())
        return h.reshape(-1) if unbatched else h


# ----------------------------------------------------------------------------- layers


class _RNNBase(Module):
    """Stacked recurrent layers over a sequence (see :class:`LSTM` for the arguments)."""

    #: PyTorch's name of the recurrence: RNN_TANH, RNN_RELU, LSTM or GRU.
    mode = "RNN_TANH"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, dtype: Any = None, fused: bool = True) -> None:
        super().__init__()
        who = type(self).__name__
        self.input_size = _check_features(input_size, who, "input_size")
        self.hidden_size = _check_features(hidden_size, who, "hidden_size")
        self.num_layers = _check_features(num_layers, who, "num_layers")
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) \
                or not 0 <= dropout <= 1:
            raise ValueError(f"{who}: dropout must be a probability in [0, 1], got {dropout!r}")
        self.bias, self.batch_first, self.dropout = bool(bias), bool(batch_first), dropout
        self.bidirectional, self.fused = bool(bidirectional), bool(fused)
        dt = get_default_dtype() if dtype is None else np.dtype(dtype)
        G = _GATES[self.mode] * hidden_size
        D = 2 if bidirectional else 1
        self._names: list[tuple[str, str, str, str]] = []
        for layer in range(num_layers):
            n_in = input_size if layer == 0 else hidden_size * D
            for suffix in ("", "_reverse")[:D]:
                names = tuple(f"{w}_l{layer}{suffix}" for w in
                              ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
                setattr(self, names[0], Parameter(np.zeros((G, n_in), dtype=dt)))
                setattr(self, names[1], Parameter(np.zeros((G, hidden_size), dtype=dt)))
                for name in names[2:]:
                    if bias:
                        setattr(self, name, Parameter(np.zeros(G, dtype=dt)))
                    else:
                        self.register_parameter(name, None)
                self._names.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Fresh weights and biases, U(−1/√H, 1/√H) (PyTorch's default)."""
        _uniform_init(self)

    @property
    def all_weights(self) -> list[list[Tensor | None]]:
        """[weight_ih, weight_hh, bias_ih, bias_hh] of each layer and direction, in order."""
        return [[getattr(self, n) for n in names] for names in self._names]

    # ------------------------------------------------------------------ checks
    def _check_input(self, x: Tensor) -> tuple[Tensor, bool]:
        """``x`` as time-major (T, B, I), and whether it was one unbatched sequence."""
        who, n = type(self).__name__, self.input_size
        layout = f"(batch, seq, {n})" if self.batch_first else f"(seq, batch, {n})"
        if x.ndim not in (2, 3) or x.shape[-1] != n:
            hint = ("batch_first=True: the batch is axis 0" if self.batch_first else
                    "batch_first=False: time is axis 0; pass batch_first=True for "
                    "(batch, seq, features) data")
            raise ValueError(f"{who}: expected input of shape {layout} (or (seq, {n}) "
                             f"unbatched), got {_shape_text(x.shape)}; input_size is {n} "
                             f"({hint})")
        if x.shape[1 if self.batch_first and x.ndim == 3 else 0] == 0:
            raise ValueError(f"{who}: the input sequence is empty (shape "
                             f"{_shape_text(x.shape)}); it needs at least one time step")
        if x.ndim == 2:
            return x.reshape(x.shape[0], 1, n), True
        return (x.transpose(1, 0, 2) if self.batch_first else x), False

    def _initial(self, hx: Any, batch: int, unbatched: bool, name: str) -> Tensor:
        """The initial state (L·D, B, H) (zeros when None)."""
        k = self.num_layers * (2 if self.bidirectional else 1)
        shape = (k, self.hidden_size) if unbatched else (k, batch, self.hidden_size)
        hint = "num_layers * num_directions, " + ("" if unbatched else "batch, ") + \
            "hidden_size"
        h = _state(hx, shape, self.weight_ih_l0.dtype, type(self).__name__, name, hint)
        return h.reshape(k, 1, self.hidden_size) if unbatched else h

    # ------------------------------------------------------------------ forward
    def _run(self, x: Tensor, states: list[Tensor], k: int, reverse: bool
             ) -> tuple[Tensor, list[Tensor]]:
        """One layer (and direction) ``k`` over the time-major ``x`` from ``states``: every
        step's hidden state (T, B, H) and the final states."""
        raise NotImplementedError

    def _forward(self, input: Any, states: list[Tensor | None],  # noqa: A002
                 names: tuple[str, ...]) -> tuple[Tensor, list[Tensor]]:
        """(output, final states) for initial states given as (L·D, B, H) tensors or None."""
        x, unbatched = self._check_input(F._float_tensor(input))
        B = x.shape[1]
        init = [self._initial(s, B, unbatched, n) for s, n in zip(states, names)]
        D = 2 if self.bidirectional else 1
        finals: list[list[Tensor]] = [[] for _ in init]
        base = autograd.scopes[-1] + "." if autograd.scopes else ""
        for layer in range(self.num_layers):
            outs = []
            for d in range(D):
                k = layer * D + d
                one = self.num_layers == 1 and D == 1  # (no box needed around the only layer)
                with nullcontext() if one else \
                        autograd.scope(f"{base}l{layer}{'_reverse' if d else ''}"):
                    seq, last = self._run(x, [s[k] for s in init], k, bool(d))
                outs.append(seq)
                for f, s in zip(finals, last):
                    f.append(s)
            x = outs[0] if D == 1 else concatenate(outs, axis=-1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout)
        final = [stack(f) for f in finals]
        if unbatched:
            return x.reshape(x.shape[0], -1), [s.reshape(s.shape[0], -1) for s in final]
        return (x.transpose(1, 0, 2) if self.batch_first else x), final

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        for name, default in (("num_layers", 1), ("bias", True), ("batch_first", False),
                              ("dropout", 0.0), ("bidirectional", False), ("fused", True)):
            if getattr(self, name) != default:
                text += f", {name}={getattr(self, name)!r}"
        return text


class RNN(_RNNBase):
    """A basic (Elman) RNN over a sequence: h⟨t⟩ = tanh(x⟨t⟩·W_ihᵀ + b_ih + h⟨t−1⟩·W_hhᵀ
    + b_hh) per layer; ``nonlinearity="relu"`` for ReLU. Arguments and shapes as
    :class:`LSTM`; returns ``(output, h_n)``."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, dtype: Any = None,
                 fused: bool = True) -> None:
        _nonlinearity(nonlinearity, "RNN")
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, dtype, fused)
        self.nonlinearity = nonlinearity
        self.mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"

    def _run(self, x, states, k, reverse):
        seq = F.rnn_layer(x, states[0], *self.all_weights[k], nonlinearity=self.nonlinearity,
                          reverse=reverse, fused=self.fused)
        return seq, [seq[0 if reverse else -1]]

    def forward(self, input: Any, hx: Any = None) -> tuple[Tensor, Tensor]:  # noqa: A002
        out, (h_n,) = self._forward(input, [hx], ("hx",))
        return out, h_n


class LSTM(_RNNBase):
    """A (stacked, optionally bidirectional) LSTM over a sequence, PyTorch's ``nn.LSTM``.

    ``lstm(x, (h0, c0))`` → ``(output, (h_n, c_n))``:

    - ``x``: (seq, batch, input_size), or (batch, seq, input_size) with ``batch_first``,
      or (seq, input_size) for one unbatched sequence;
    - ``h0``, ``c0``: (num_layers · num_directions, batch, hidden_size); None (or no
      second argument) means zeros;
    - ``output``: every step's h of the last layer, (seq, batch, D·hidden_size), both
      directions side by side; ``h_n``, ``c_n``: each layer's and direction's final state.

    Parameters ``weight_ih_l{k}`` (4H, I or D·H), ``weight_hh_l{k}`` (4H, H), ``bias_ih_l{k}``,
    ``bias_hh_l{k}`` (4H,), ``…_reverse`` for the backward direction; gate blocks i, f, g, o
    (the course's Γu, Γf, c̃, Γo). ``dropout`` applies between layers in training mode.
    ``fused=False`` runs the composed cells (one graph scope per step, for drawings).
    """

    mode = "LSTM"

    def _run(self, x, states, k, reverse):
        out = F.lstm_layer(x, states[0], states[1], *self.all_weights[k], reverse=reverse,
                           fused=self.fused)
        last = 0 if reverse else -1
        return out[0], [out[0, last], out[1, last]]

    def forward(self, input: Any, hx: Any = None
                ) -> tuple[Tensor, tuple[Tensor, Tensor]]:  # noqa: A002
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError("LSTM: hx must be a pair (h0, c0) or None")
        out, (h_n, c_n) = self._forward(input, [None, None] if hx is None else list(hx),
                                        ("h0", "c0"))
        return out, (h_n, c_n)


class GRU(_RNNBase):
    """A (stacked, optionally bidirectional) GRU over a sequence, PyTorch's ``nn.GRU``:
    ``gru(x, h0)`` → ``(output, h_n)`` with the shapes of :class:`LSTM`; gate blocks r, z, n
    (the course's Γr, 1 − Γu, c̃)."""

    mode = "GRU"

    def _run(self, x, states, k, reverse):
        seq = F.gru_layer(x, states[0], *self.all_weights[k], reverse=reverse, fused=self.fused)
        return seq, [seq[0 if reverse else -1]]

    def forward(self, input: Any, hx: Any = None) -> tuple[Tensor, Tensor]:  # noqa: A002
        out, (h_n,) = self._forward(input, [hx], ("hx",))
        return out, h_n
