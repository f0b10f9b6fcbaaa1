"""W9 in PyTorch (CPU; its fused LSTM), the idiomatic way. Run only when torch is installed."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from workloads_charlm import layers, state_dict


class CharLSTM(nn.Module):
    def __init__(self, params: dict[str, np.ndarray], cfg: dict) -> None:
        super().__init__()
        self.emb, self.lstm, self.head = layers(nn, cfg)
        self.load_state_dict({k: torch.from_numpy(v.copy())
                              for k, v in state_dict(params).items()})
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
