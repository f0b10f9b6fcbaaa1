"""W9's floor: the character-level LSTM language model with forward, backward through time,
clipping and Adam written by hand in NumPy (the course's lstm_forward / lstm_backward, with
the four gates stacked into one product per step)."""

from __future__ import annotations

import numpy as np
from workloads import HandOptimizer


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + np.tanh(0.5 * z))


class CharLSTM:
    def __init__(self, params: dict[str, np.ndarray], cfg: dict) -> None:
        self.p = {k: v.copy() for k, v in params.items()}
        self.names = list(self.p)
        self.clip = cfg["clip"]
        self.opt = HandOptimizer([self.p[k] for k in self.names], "adam", cfg["lr"])

    def step(self, X: np.ndarray, Y: np.ndarray) -> float:
        p = self.p
        T, B = X.shape
        H = p["weight_hh"].shape[1]
        # ---- forward
        e = p["emb"][X]                                              # (T, B, E)
        gates = (e.reshape(T * B, -1) @ p["weight_ih"].T).reshape(T, B, 4 * H)
        gates += p["bias_ih"] + p["bias_hh"]
        hs = np.zeros((T + 1, B, H), np.float32)
        cs = np.zeros((T + 1, B, H), np.float32)
        tanh_c = np.empty((T, B, H), np.float32)
        for t in range(T):
            z = gates[t]
            z += hs[t] @ p["weight_hh"].T
            z[:, :2 * H] = _sigmoid(z[:, :2 * H])
            z[:, 2 * H:3 * H] = np.tanh(z[:, 2 * H:3 * H])
            z[:, 3 * H:] = _sigmoid(z[:, 3 * H:])
            cs[t + 1] = z[:, H:2 * H] * cs[t] + z[:, :H] * z[:, 2 * H:3 * H]
            tanh_c[t] = np.tanh(cs[t + 1])
            hs[t + 1] = z[:, 3 * H:] * tanh_c[t]
        h2 = hs[1:].reshape(T * B, H)
        logits = h2 @ p["head_w"].T + p["head_b"]
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        probs /= probs.sum(axis=1, keepdims=True)
        rows, y = np.arange(T * B), Y.reshape(-1)
        loss = -np.mean(np.log(probs[rows, y]))
        # ---- backward
        dlogits = probs
        dlogits[rows, y] -= 1
        dlogits /= T * B
        g = {"head_w": dlogits.T @ h2, "head_b": dlogits.sum(axis=0)}
        dhs = (dlogits @ p["head_w"]).reshape(T, B, H)
        dz = np.empty_like(gates)
        dh, dc = np.zeros((B, H), np.float32), np.zeros((B, H), np.float32)
        for t in range(T - 1, -1, -1):
            z = gates[t]
            i, f, c_hat, o = z[:, :H], z[:, H:2 * H], z[:, 2 * H:3 * H], z[:, 3 * H:]
            dh = dh + dhs[t]
            dc = dc + dh * o * (1 - tanh_c[t] ** 2)
            dz[t, :, :H] = dc * c_hat * i * (1 - i)
            dz[t, :, H:2 * H] = dc * cs[t] * f * (1 - f)
            dz[t, :, 2 * H:3 * H] = dc * i * (1 - c_hat ** 2)
            dz[t, :, 3 * H:] = dh * tanh_c[t] * o * (1 - o)
            dc = dc * f
            dh = dz[t] @ p["weight_hh"]
        dz2 = dz.reshape(T * B, 4 * H)
        g["weight_ih"] = dz2.T @ e.reshape(T * B, -1)
        g["weight_hh"] = dz2.T @ hs[:-1].reshape(T * B, H)
        g["bias_ih"] = g["bias_hh"] = dz2.sum(axis=0)
        g["emb"] = np.zeros_like(p["emb"])
        np.add.at(g["emb"], X.reshape(-1), (dz2 @ p["weight_ih"]))
        # ---- clip by the total norm (PyTorch's rule), then Adam
        grads = [g[k] for k in self.names]
        total = np.sqrt(sum(float(np.dot(x.ravel(), x.ravel())) for x in grads))
        coef = self.clip / (total + 1e-6)
        if coef < 1:
            grads = [x * np.float32(coef) for x in grads]
        self.opt.step(grads)
        return float(loss)


make_char_lstm = CharLSTM
