"""W9 in tinygrad_ng, written as a user would: nn.Embedding, nn.LSTM, nn.Linear,
F.cross_entropy, nn.utils.clip_grad_norm_ and optim.Adam."""

from __future__ import annotations

import numpy as np
import tinygrad_ng.nn as nn
from workloads_charlm import layers, state_dict

import tinygrad_ng as tg
import tinygrad_ng.functional as F
from tinygrad_ng import optim


class CharLSTM(nn.Module):
    def __init__(self, params: dict[str, np.ndarray], cfg: dict) -> None:
        super().__init__()
        self.emb, self.lstm, self.head = layers(nn, cfg)
        self.load_state_dict(state_dict(params))
        self.clip = cfg["clip"]
        self.opt = optim.Adam(self.parameters(), lr=cfg["lr"])

    def forward(self, X: np.ndarray) -> tg.Tensor:
        out, _ = self.lstm(self.emb(X))
        return self.head(out)

    def step(self, X: np.ndarray, Y: np.ndarray) -> float:
        loss = F.cross_entropy(self(X), Y)  # the classes on the last axis, every step
        self.opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(self.parameters(), self.clip)
        self.opt.step()
        return loss.item()


make_char_lstm = CharLSTM
