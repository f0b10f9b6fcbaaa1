"""Optimisers and learning-rate schedules (installed as ``tinygrad_ng.optim``).

    from tinygrad_ng import optim
    opt = optim.Adam(model.parameters(), lr=1e-3)
    sched = optim.lr_scheduler.InverseTimeDecay(opt, decay_rate=1.0)

Course notation → here: α is ``lr``; momentum's β is ``Momentum(beta=...)``; RMSprop's β₂ is
``RMSprop(alpha=...)``; Adam's β₁, β₂, ε are ``Adam(betas=(β₁, β₂), eps=ε)``; L2
regularisation with λ over m examples is ``weight_decay=λ/m``.
"""

from . import lr_scheduler
from .adaptive import Adagrad, Adam, AdamW, RMSprop
from .optimizer import Optimizer
from .sgd import SGD, Momentum

__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "Momentum", "Optimizer", "RMSprop", "lr_scheduler"]
