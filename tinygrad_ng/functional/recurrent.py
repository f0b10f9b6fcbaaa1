"""Recurrent cells and layers in the course's notation, with PyTorch's weight layout.

Two forms of every recurrence, which agree to rounding (tested):

- **Cells** (:func:`rnn_cell`, :func:`lstm_cell`, :func:`gru_cell`) are written with Tensor
  ops, one time step each. Their gates are named tensors (``Γu⟨3⟩``, ``Γf⟨3⟩``, ``c̃⟨3⟩``,
  ``Γo⟨3⟩``), so a drawing of an unrolled network shows the course's picture. Looping over
  them is *backpropagation through time* done by the engine.
- **Layers** (:func:`rnn_layer`, :func:`lstm_layer`, :func:`gru_layer`) run one layer in one
  direction over a whole sequence. By default (``fused=True``) that is ONE graph node whose
  forward loops over time in NumPy and whose backward is the hand-written BPTT below (the
  speed of the course's NumPy assignment); with ``fused=False`` they loop over the cells,
  each step inside its own graph scope ``t=1``, ``t=2``, … so that a drawing puts every time
  step in one box. The fused nodes define ``composed`` (the cell loop), which the engine
  differentiates for second derivatives.

Layout (PyTorch's, so a ``state_dict`` lines up): ``w_ih`` is (G·H, I) and ``w_hh`` (G·H, H)
with the G gate blocks stacked in PyTorch's order — LSTM: i, f, g, o; GRU: r, z, n — and
inputs are time-major, ``x`` of shape (T, B, I).

| course                 | PyTorch            | here                                |
|------------------------|--------------------|-------------------------------------|
| a⟨t⟩ (hidden state)    | h_t                | the layer's output at step t        |
| Γu (update gate)       | i (input gate)     | LSTM block 0                        |
| Γf (forget gate)       | f                  | LSTM block 1                        |
| c̃⟨t⟩ (candidate)      | g                  | LSTM block 2; GRU's n               |
| Γo (output gate)       | o                  | LSTM block 3                        |
| Γr (relevance gate)    | r                  | GRU block 0                         |
| Γu (GRU update gate)   | 1 − z              | GRU block 1 holds z; Γu = σ(−z_pre) |
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import autograd
from ..function import Function
from ..tensor import Tensor, stack
from .activations import relu, sigmoid, tanh
from .linear import linear

# ----------------------------------------------------------------------------- cells


def _step(t: int | None) -> str:
    return "" if t is None else f"⟨{t}⟩"


def _named(x: Tensor, name: str, t: int | None) -> Tensor:
    x.name = name + _step(t)
    return x


def _pre(x: Tensor, h: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None,
         b_hh: Tensor | None) -> Tensor:
    """x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh: every gate's pre-activation, blocks side by side."""
    return linear(x, w_ih, b_ih) + linear(h, w_hh, b_hh)


def _blocks(z: Tensor, n: int) -> list[Tensor]:
    """The ``n`` gate blocks of the last axis of ``z``."""
    size = z.shape[-1] // n
    return [z[..., k * size:(k + 1) * size] for k in range(n)]


def rnn_cell(x: Tensor, h: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
             b_hh: Tensor | None = None, nonlinearity: str = "tanh",
             t: int | None = None) -> Tensor:
    """One step of the basic RNN: a⟨t⟩ = tanh(W_ax x⟨t⟩ + W_aa a⟨t−1⟩ + b_a).

    ``w_ih`` is the course's W_ax (H, I), ``w_hh`` its W_aa (H, H); b_a = b_ih + b_hh.
    ``nonlinearity`` is ``"tanh"`` or ``"relu"``; ``t`` (1-based) names the output
    ``a⟨t⟩`` in drawings.
    """
    act = tanh if nonlinearity == "tanh" else relu
    return _named(act(_pre(x, h, w_ih, w_hh, b_ih, b_hh)), "a", t)


def lstm_cell(x: Tensor, state: tuple[Tensor, Tensor], w_ih: Tensor, w_hh: Tensor,
              b_ih: Tensor | None = None, b_hh: Tensor | None = None,
              t: int | None = None) -> tuple[Tensor, Tensor]:
    """One LSTM step in the course's notation (``state`` = (a⟨t−1⟩, c⟨t−1⟩))::

        Γu = σ(·), Γf = σ(·), c̃⟨t⟩ = tanh(·), Γo = σ(·)      (the four blocks of W·[a, x] + b)
        c⟨t⟩ = Γf ⊙ c⟨t−1⟩ + Γu ⊙ c̃⟨t⟩,   a⟨t⟩ = Γo ⊙ tanh(c⟨t⟩)

    Returns (a⟨t⟩, c⟨t⟩); PyTorch's (h_t, c_t) with its i, f, g, o gate order.
    """
    h, c = state
    i, f, g, o = _blocks(_pre(x, h, w_ih, w_hh, b_ih, b_hh), 4)
    gamma_u, gamma_f = _named(sigmoid(i), "Γu", t), _named(sigmoid(f), "Γf", t)
    c_tilde, gamma_o = _named(tanh(g), "c̃", t), _named(sigmoid(o), "Γo", t)
    c_next = _named(gamma_f * c + gamma_u * c_tilde, "c", t)
    return _named(gamma_o * tanh(c_next), "a", t), c_next


def gru_cell(x: Tensor, h: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
             b_hh: Tensor | None = None, t: int | None = None) -> Tensor:
    """One GRU step (PyTorch's equations, the course's names)::

        Γr = σ(r),  Γu = σ(−z) = 1 − σ(z),  c̃⟨t⟩ = tanh(W_in x + b_in + Γr ⊙ (W_hn a + b_hn))
        a⟨t⟩ = Γu ⊙ c̃⟨t⟩ + (1 − Γu) ⊙ a⟨t−1⟩

    PyTorch writes h' = (1 − z) ⊙ n + z ⊙ h: its z is the course's 1 − Γu, and its reset
    gate multiplies W_hn·h (the course multiplies a⟨t−1⟩ before the product).
    """
    xr, xz, xn = _blocks(linear(x, w_ih, b_ih), 3)
    hr, hz, hn = _blocks(linear(h, w_hh, b_hh), 3)
    gamma_r = _named(sigmoid(xr + hr), "Γr", t)
    gamma_u = _named(sigmoid(-(xz + hz)), "Γu", t)
    c_tilde = _named(tanh(xn + gamma_r * hn), "c̃", t)
    return _named(gamma_u * c_tilde + (1 - gamma_u) * h, "a", t)


# ----------------------------------------------------------------------------- the cell loop


def _unroll(step: Callable[[Tensor, Any, int], Any], x: Tensor, state: Any,
            reverse: bool) -> list:
    """Run ``step(x⟨t⟩, state, t)`` over the time axis (backwards when ``reverse``), each
    step in a graph scope ``t=1``, ``t=2``, … below the current one; the states in the
    order of the input's positions."""
    T = x.shape[0]
    base = autograd.scopes[-1] + "." if autograd.scopes else ""
    states: list = [None] * T
    for pos in _order(T, reverse):
        with autograd.scope(f"{base}t={pos + 1}"):
            state = step(x[pos], state, pos + 1)
        states[pos] = state
    return states


def _lstm_composed(x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False):
    states = _unroll(lambda xt, s, t: lstm_cell(xt, s, w_ih, w_hh, b_ih, b_hh, t),
                     x, (h0, c0), reverse)
    return stack([stack([h for h, _ in states]), stack([c for _, c in states])])


def _gru_composed(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False):
    return stack(_unroll(lambda xt, h, t: gru_cell(xt, h, w_ih, w_hh, b_ih, b_hh, t),
                         x, h0, reverse))


def _rnn_composed(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False, nonlinearity="tanh"):
    return stack(_unroll(
        lambda xt, h, t: rnn_cell(xt, h, w_ih, w_hh, b_ih, b_hh, nonlinearity, t),
        x, h0, reverse))


# ----------------------------------------------------------------------------- fused layers
# Each forward computes x·W_ihᵀ for all steps in one product, then loops over time; each
# backward is backpropagation through time by hand, gathering the gates' gradients dZ of
# every step so that dW_ih, dW_hh, the biases and dx are again one product each.


def _sigmoid_(v: np.ndarray) -> np.ndarray:
    """σ(v) = (1 + tanh(v/2))/2 in place: never overflows, no warnings for any v."""
    v *= 0.5
    np.tanh(v, out=v)
    v *= 0.5
    v += 0.5
    return v


def _input_products(x: np.ndarray, w_ih: np.ndarray, biases: tuple) -> np.ndarray:
    """x·W_ihᵀ + the biases, for every step at once: (T, B, G·H)."""
    T, B, n_in = x.shape
    out = (x.reshape(T * B, n_in) @ w_ih.T).reshape(T, B, -1)
    for b in biases:
        if b is not None:
            out += b
    return out


def _order(T: int, reverse: bool) -> range:
    return range(T - 1, -1, -1) if reverse else range(T)


def _previous(states: np.ndarray, first: np.ndarray, reverse: bool) -> np.ndarray:
    """The state each step started from (T, B, H): ``first``, then the earlier outputs."""
    if reverse:
        return np.concatenate([states[1:], first[None]])
    return np.concatenate([first[None], states[:-1]])


def _weight_grads(ctx, dz_in: np.ndarray, dz_h: np.ndarray, x: np.ndarray,
                  h_prev: np.ndarray, w_ih: np.ndarray) -> tuple:
    """(dx, dW_ih, dW_hh, db_ih, db_hh) from the gates' gradients of every step: dZ_in
    (reaching x·W_ihᵀ + b_ih) and dZ_h (reaching h·W_hhᵀ + b_hh), both (T, B, G·H)."""
    need = ctx.needs_input_grad
    n = len(need)
    T, B, G = dz_in.shape
    dz_in2, dz_h2 = dz_in.reshape(T * B, G), dz_h.reshape(T * B, G)
    dx = dz_in @ w_ih if need[0] else None
    dw_ih = dz_in2.T @ x.reshape(T * B, -1) if need[n - 4] else None
    dw_hh = dz_h2.T @ h_prev.reshape(T * B, -1) if need[n - 3] else None
    db_ih = dz_in2.sum(axis=0) if need[n - 2] else None
    db_hh = (db_ih if dz_h is dz_in and db_ih is not None else dz_h2.sum(axis=0)) \
        if need[n - 1] else None
    return dx, dw_ih, dw_hh, db_ih, db_hh


class LSTMLayer(Function):
    """An LSTM layer over a sequence, one node: (x, a⟨0⟩, c⟨0⟩, W_ih, W_hh, b_ih, b_hh) →
    the stacked states (2, T, B, H): ``[0]`` every a⟨t⟩, ``[1]`` every c⟨t⟩.

    Backward through time, with dc carried back along the cell state::

        dc = dc⟨t⟩ + dc_next + da · Γo · (1 − tanh²c⟨t⟩)
        dΓo = da · tanh c⟨t⟩,  dΓu = dc · c̃,  dc̃ = dc · Γu,  dΓf = dc · c⟨t−1⟩
        dc_next = dc · Γf,  da_next = dZ · W_hh   (dZ: the gates' gradients before σ/tanh)
    """

    op, inputs = "lstm", ("x", "a0", "c0", "W_ih", "W_hh", "b_ih", "b_hh")
    derivatives = ("BPTT",) * 7
    composed = staticmethod(_lstm_composed)

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False):
        T, B, _ = x.shape
        H = w_hh.shape[1]
        gates = _input_products(x, w_ih, (b_ih, b_hh))
        out = np.empty((2, T, B, H), dtype=gates.dtype)
        tanh_c = np.empty((T, B, H), dtype=gates.dtype)
        # all four activations at once: σ(v) = ½ + ½·tanh(v/2) for i, f, o; tanh for g
        scale = np.array([[0.5], [0.5], [1.0], [0.5]], dtype=gates.dtype)
        shift = np.array([[0.5], [0.5], [0.0], [0.5]], dtype=gates.dtype)
        h, c, w_hh_t = h0, c0, w_hh.T
        for t in _order(T, reverse):
            z = gates[t]
            z += h @ w_hh_t
            blocks = z.reshape(B, 4, H)
            blocks *= scale
            np.tanh(blocks, out=blocks)
            blocks *= scale
            blocks += shift
            c = np.multiply(z[:, H:2 * H], c, out=out[1, t])
            c += z[:, :H] * z[:, 2 * H:3 * H]
            np.tanh(c, out=tanh_c[t])
            h = np.multiply(z[:, 3 * H:], tanh_c[t], out=out[0, t])
        ctx.reverse = reverse
        ctx.save_for_backward(x, h0, c0, w_ih, w_hh, out, gates, tanh_c)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, h0, c0, w_ih, w_hh, out, gates, tanh_c = ctx.saved_tensors
        T, B, H = tanh_c.shape
        reverse = ctx.reverse
        dz = np.empty_like(gates)
        dh_next, dc_next = np.zeros_like(h0), np.zeros_like(c0)
        c_prev_all = _previous(out[1], c0, reverse)
        for t in _order(T, not reverse):  # the forward steps, last one first
            z = gates[t]
            i, f, g, o = z[:, :H], z[:, H:2 * H], z[:, 2 * H:3 * H], z[:, 3 * H:]
            dh = grad[0, t] + dh_next
            dc = grad[1, t] + dc_next + dh * o * (1 - tanh_c[t] * tanh_c[t])
            d = dz[t]
            d[:, :H] = dc * g * i * (1 - i)
            d[:, H:2 * H] = dc * c_prev_all[t] * f * (1 - f)
            d[:, 2 * H:3 * H] = dc * i * (1 - g * g)
            d[:, 3 * H:] = dh * tanh_c[t] * o * (1 - o)
            dc_next = dc * f
            dh_next = d @ w_hh
        dx, dw_ih, dw_hh, db_ih, db_hh = _weight_grads(
            ctx, dz, dz, x, _previous(out[0], h0, reverse), w_ih)
        return dx, dh_next, dc_next, dw_ih, dw_hh, db_ih, db_hh


class GRULayer(Function):
    """A GRU layer over a sequence, one node: (x, a⟨0⟩, W_ih, W_hh, b_ih, b_hh) → every
    a⟨t⟩ (T, B, H). PyTorch's equations: r = σ(·), z = σ(·), n = tanh(x_n + r ⊙ h_n),
    a = n + z ⊙ (a_prev − n), with x_n = W_in x + b_in and h_n = W_hn a_prev + b_hn.

    Backward: dn = da (1 − z), dz = da (a_prev − n), dn_pre = dn (1 − n²),
    dr = dn_pre ⊙ h_n, da_prev = da ⊙ z + dZ_h · W_hh.
    """

    op, inputs = "gru", ("x", "a0", "W_ih", "W_hh", "b_ih", "b_hh")
    derivatives = ("BPTT",) * 6
    composed = staticmethod(_gru_composed)

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False):
        T, B, _ = x.shape
        H = w_hh.shape[1]
        gates = _input_products(x, w_ih, (b_ih,))  # becomes r, z, n
        h_n = np.empty((T, B, H), dtype=gates.dtype)
        out = np.empty((T, B, H), dtype=gates.dtype)
        h, w_hh_t = h0, w_hh.T
        for t in _order(T, reverse):
            hw = h @ w_hh_t
            if b_hh is not None:
                hw += b_hh
            z = gates[t]
            z[:, :2 * H] += hw[:, :2 * H]
            _sigmoid_(z[:, :2 * H])
            h_n[t] = hw[:, 2 * H:]
            n = z[:, 2 * H:]
            n += z[:, :H] * h_n[t]
            np.tanh(n, out=n)
            h = np.subtract(h, n, out=out[t])
            h *= z[:, H:2 * H]
            h += n
        ctx.reverse = reverse
        ctx.save_for_backward(x, h0, w_ih, w_hh, out, gates, h_n)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, h0, w_ih, w_hh, out, gates, h_n = ctx.saved_tensors
        T, B, H = out.shape
        h_prev_all = _previous(out, h0, ctx.reverse)
        dz_in, dz_h = np.empty_like(gates), np.empty_like(gates)
        dh_next = np.zeros_like(h0)
        for t in _order(T, not ctx.reverse):
            z = gates[t]
            r, u, n = z[:, :H], z[:, H:2 * H], z[:, 2 * H:]
            dh = grad[t] + dh_next
            dn = dh * (1 - u) * (1 - n * n)
            dr = dn * h_n[t] * r * (1 - r)
            du = dh * (h_prev_all[t] - n) * u * (1 - u)
            for d in (dz_in[t], dz_h[t]):
                d[:, :H], d[:, H:2 * H] = dr, du
            dz_in[t][:, 2 * H:] = dn
            dz_h[t][:, 2 * H:] = dn * r
            dh_next = dh * u + dz_h[t] @ w_hh
        dx, dw_ih, dw_hh, db_ih, db_hh = _weight_grads(ctx, dz_in, dz_h, x, h_prev_all, w_ih)
        return dx, dh_next, dw_ih, dw_hh, db_ih, db_hh


class RNNLayer(Function):
    """A basic RNN layer over a sequence, one node: a⟨t⟩ = act(W_ax x⟨t⟩ + W_aa a⟨t−1⟩ + b)
    for every t (T, B, H), act tanh or relu. Backward: dZ = da ⊙ act'(·) (1 − a² for tanh),
    da_prev = dZ · W_aa."""

    op, inputs = "rnn", ("x", "a0", "W_ax", "W_aa", "b_ih", "b_hh")
    derivatives = ("BPTT",) * 6
    composed = staticmethod(_rnn_composed)

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False,
                nonlinearity="tanh"):
        out = _input_products(x, w_ih, (b_ih, b_hh))
        h, w_hh_t = h0, w_hh.T
        for t in _order(x.shape[0], reverse):
            h = np.add(out[t], h @ w_hh_t, out=out[t])
            if nonlinearity == "tanh":
                np.tanh(h, out=h)
            else:
                np.maximum(h, 0, out=h)
        ctx.reverse, ctx.tanh = reverse, nonlinearity == "tanh"
        ctx.save_for_backward(x, h0, w_ih, w_hh, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, h0, w_ih, w_hh, out = ctx.saved_tensors
        dz = np.empty_like(out)
        dh_next = np.zeros_like(h0)
        for t in _order(out.shape[0], not ctx.reverse):
            a = out[t]
            dh = grad[t] + dh_next
            dz[t] = dh * (1 - a * a) if ctx.tanh else dh * (a > 0)
            dh_next = dz[t] @ w_hh
        dx, dw_ih, dw_hh, db_ih, db_hh = _weight_grads(
            ctx, dz, dz, x, _previous(out, h0, ctx.reverse), w_ih)
        return dx, dh_next, dw_ih, dw_hh, db_ih, db_hh


# ----------------------------------------------------------------------------- one layer


def rnn_layer(x: Tensor, h0: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
              b_hh: Tensor | None = None, nonlinearity: str = "tanh", reverse: bool = False,
              fused: bool = True) -> Tensor:
    """Every a⟨t⟩ (T, B, H) of a basic RNN over ``x`` (T, B, I) from ``h0`` (B, H); run
    backwards in time when ``reverse``. ``fused=False`` loops over :func:`rnn_cell`."""
    if not fused:
        return _rnn_composed(x, h0, w_ih, w_hh, b_ih, b_hh, reverse, nonlinearity)
    return RNNLayer.apply(x, h0, w_ih, w_hh, b_ih, b_hh, reverse=reverse,
                          nonlinearity=nonlinearity)


def lstm_layer(x: Tensor, h0: Tensor, c0: Tensor, w_ih: Tensor, w_hh: Tensor,
               b_ih: Tensor | None = None, b_hh: Tensor | None = None, reverse: bool = False,
               fused: bool = True) -> Tensor:
    """The states of an LSTM over ``x`` (T, B, I) from (``h0``, ``c0``) (B, H) each, stacked
    as (2, T, B, H): ``[0]`` every a⟨t⟩, ``[1]`` every c⟨t⟩. ``fused=False`` loops over
    :func:`lstm_cell`."""
    if not fused:
        return _lstm_composed(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse)
    return LSTMLayer.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse=reverse)


def gru_layer(x: Tensor, h0: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
              b_hh: Tensor | None = None, reverse: bool = False, fused: bool = True) -> Tensor:
    """Every a⟨t⟩ (T, B, H) of a GRU over ``x`` (T, B, I) from ``h0`` (B, H).
    ``fused=False`` loops over :func:`gru_cell`."""
    if not fused:
        return _gru_composed(x, h0, w_ih, w_hh, b_ih, b_hh, reverse)
    return GRULayer.apply(x, h0, w_ih, w_hh, b_ih, b_hh, reverse=reverse)
