"""Transfer learning (Course 3, week 2): reuse a network trained on task A for task B.

The course's recipe: take the trained network, **replace its last layer** (the "head") by a
new, randomly initialised one for task B, and retrain. With little data for B, **freeze**
the body and train only the new head (or the last few layers); with more data, retrain
everything, starting from the pre-trained weights (fine-tuning)::

    body_and_head = pretrained                       # e.g. Sequential(..., Linear(32, 10))
    nn.replace_head(body_and_head, nn.Linear(32, 2)) # task B has two classes
    nn.freeze_all_but_last(body_and_head, 1)         # only the new head trains
    opt = optim.Adam(body_and_head.parameters())     # frozen parameters are skipped

``module.requires_grad_(False)`` freezes any module and ``requires_grad_()`` unfreezes it.
"""

from __future__ import annotations

from .module import Module

__all__ = ["freeze_all_but_last", "layers_with_parameters", "replace_head"]


def layers_with_parameters(model: Module) -> list[tuple[str, Module]]:
    """``(path, module)`` for each module that holds parameters itself (``Linear``,
    ``BatchNorm1d``, …), in the order they were registered: the model's "layers"."""
    if not isinstance(model, Module):
        raise TypeError(f"expected an nn.Module, got {type(model).__name__}")
    return [(path, m) for path, m in model.named_modules()
            if any(getattr(m, name) is not None for name in m._param_names)]


def freeze_all_but_last(model: Module, k: int) -> Module:
    """Freeze every layer with parameters except the last ``k`` (``k = 0`` freezes all);
    the last ``k`` are made trainable. Returns ``model``.

    Layers are the modules holding parameters themselves, in registration order (see
    :func:`layers_with_parameters`), so activations and containers do not count:
    ``Sequential(Linear, ReLU, Linear, ReLU, Linear)`` with ``k=1`` trains only the last
    ``Linear``. A parameter shared with a trainable layer stays trainable. A frozen
    ``BatchNorm1d`` still updates its running statistics in training mode: put it in
    ``eval()`` to keep them too.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 0:
        raise ValueError(f"freeze_all_but_last: k must be an int >= 0, got {k!r}")
    layers = layers_with_parameters(model)
    if k > len(layers):
        raise ValueError(f"freeze_all_but_last: k={k} but the model has only {len(layers)} "
                         f"layers with parameters: {[path for path, _ in layers]}")
    frozen, trainable = layers[:len(layers) - k], layers[len(layers) - k:]
    for _, layer in frozen:
        layer.requires_grad_(False)
    for _, layer in trainable:
        layer.requires_grad_(True)
    return model


def replace_head(model: Module, head: Module) -> Module:
    """Put ``head`` in place of the model's last layer with parameters (its output layer)
    and return the layer taken out.

    The new head sits where the old one was (same name in the same parent), so a
    ``Sequential`` keeps its order and the activations after the old head (a final
    ``Sigmoid``, say) stay. ``head`` is trainable as made; to keep the body fixed, call
    ``freeze_all_but_last(model, 1)`` after it.
    """
    if not isinstance(head, Module):
        raise TypeError(f"replace_head: head must be an nn.Module, got {type(head).__name__}")
    layers = layers_with_parameters(model)
    if not layers:
        raise ValueError(f"replace_head: {type(model).__name__} has no layer with parameters "
                         "to replace")
    path, old = layers[-1]
    if not path:
        raise ValueError(f"replace_head: the model itself ({type(model).__name__}) is the only "
                         "layer with parameters; there is no head to swap out")
    parent_path, _, name = path.rpartition(".")
    parent = dict(model.named_modules())[parent_path]
    parent.add_module(name, head)
    return old
