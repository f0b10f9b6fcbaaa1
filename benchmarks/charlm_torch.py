"""W9 in PyTorch (CPU; its fused LSTM), the idiomatic way. Run only when torch is installed."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class CharLSTM(nn.Module):
    def __init__(self, params: dict[str, np.ndarray], cfg: dict) -> None:
        super().__init__()
        V, E, H = cfg["vocab"], cfg["embed"], cfg["hidden"]
        self.emb = nn.Embedding(V, E)
        self.lstm = nn.LSTM(E, H)
        self.head = nn.Linear(H, V)
        state = {"emb.weight": params["emb"], "head.weight": params["head_w"],
                 "head.bias": params["head_b"],
                 **{f"lstm.{k}_l0": params[k] for k in ("weight_ih", "weight_hh", "bias_ih",
                                                        "bias_hh")}}
        self.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()})
        self.clip = cfg["clip"]
        self.loss_fn = nn.CrossEntropyLoss()
        self.opt = torch.optim.Adam(self.parameters(), lr=cfg["lr"])

    def step(self, X: np.ndarray, Y: np.ndarray) -> float:
        X, Y = torch.from_numpy(X), torch.from_numpy(Y)
        self.opt.zero_grad()
        out, _ = self.lstm(self.emb(X))
        logits = self.head(out)
        loss = self.loss_fn(logits.reshape(-1, logits.shape[-1]), Y.reshape(-1))
        loss.backward()
        nn.utils.clip_grad_norm_(self.parameters(), self.clip)
        self.opt.step()
        return loss.item()


make_char_lstm = CharLSTM
