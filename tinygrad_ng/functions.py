"""PyTorch's top-level functions: ``tg.exp(x)``, ``tg.sum(x, dim=1)``, ``tg.matmul(a, b)`` …

Each calls the Tensor method of the same name on ``x`` (a Tensor, or anything ``Tensor()``
accepts), with the same arguments and the same meaning, so ``tg.max(x, 1)`` is
``x.max(1)``: the named tuple ``(values, indices)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .autograd import _GradMode
from .tensor import Tensor


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _method(name: str) -> Callable[..., Any]:
    def fn(x: Any, *args: Any, **kwargs: Any) -> Any:
        return getattr(_as_tensor(x), name)(*args, **kwargs)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``tg.{name}(x, ...)`` = ``x.{name}(...)``."
    return fn


exp = _method("exp")
log = _method("log")
sqrt = _method("sqrt")
abs = _method("abs")
square = _method("square")
sigmoid = _method("sigmoid")
tanh = _method("tanh")
relu = _method("relu")
sin = _method("sin")
cos = _method("cos")
tan = _method("tan")
arcsin = _method("arcsin")
arccos = _method("arccos")
arctan = _method("arctan")
arctan2 = _method("arctan2")
sinh = _method("sinh")
cosh = _method("cosh")
arcsinh = _method("arcsinh")
arccosh = _method("arccosh")
arctanh = _method("arctanh")
asin = _method("asin")
acos = _method("acos")
atan = _method("atan")
atan2 = _method("atan2")
asinh = _method("asinh")
acosh = _method("acosh")
atanh = _method("atanh")
log2 = _method("log2")
log10 = _method("log10")
log1p = _method("log1p")
exp2 = _method("exp2")
expm1 = _method("expm1")
logaddexp = _method("logaddexp")
cbrt = _method("cbrt")
erf = _method("erf")
sign = _method("sign")
reciprocal = _method("reciprocal")
neg = _method("neg")
pow = _method("pow")
clamp = _method("clamp")
clip = _method("clip")
maximum = _method("maximum")
minimum = _method("minimum")
sum = _method("sum")
mean = _method("mean")
var = _method("var")
std = _method("std")
max = _method("max")
amax = _method("amax")
amin = _method("amin")
nonzero = _method("nonzero")
min = _method("min")
prod = _method("prod")
logsumexp = _method("logsumexp")
argmax = _method("argmax")
argmin = _method("argmin")
all = _method("all")
any = _method("any")
norm = _method("norm")
cumsum = _method("cumsum")
cumprod = _method("cumprod")
softmax = _method("softmax")
log_softmax = _method("log_softmax")
matmul = _method("matmul")
mm = _method("mm")
reshape = _method("reshape")
transpose = _method("transpose")
permute = _method("permute")
flatten = _method("flatten")
squeeze = _method("squeeze")
unsqueeze = _method("unsqueeze")
flip = _method("flip")
roll = _method("roll")
gather = _method("gather")
index_select = _method("index_select")
masked_fill = _method("masked_fill")
split = _method("split")
chunk = _method("chunk")
unbind = _method("unbind")
topk = _method("topk")
sort = _method("sort")
argsort = _method("argsort")
isnan = _method("isnan")
isinf = _method("isinf")
isfinite = _method("isfinite")
numel = _method("numel")
clone = _method("clone")
swapaxes = _method("swapaxes")
moveaxis = _method("moveaxis")
movedim = _method("movedim")
repeat_interleave = _method("repeat_interleave")
eq = _method("eq")
ne = _method("ne")
lt = _method("lt")
le = _method("le")
gt = _method("gt")
ge = _method("ge")
equal = _method("equal")


def is_tensor(x: Any) -> bool:
    """True for a :class:`Tensor`."""
    return isinstance(x, Tensor)


def allclose(a: Any, b: Any, rtol: float = 1e-5, atol: float = 1e-8,
             equal_nan: bool = False) -> bool:
    """``|a − b| ≤ atol + rtol·|b|`` everywhere (a Python bool), as ``torch.allclose``."""
    a, b = (x.data if isinstance(x, Tensor) else np.asarray(x) for x in (a, b))
    return bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def inference_mode(mode: bool = True) -> _GradMode:
    """PyTorch's ``torch.inference_mode()`` (a context manager or decorator): here the same
    as ``tg.no_grad()``."""
    return _GradMode(not mode)


__all__ = ["allclose", "inference_mode", "is_tensor",
           "exp", "log", "sqrt", "abs", "square", "sigmoid", "tanh", "relu", "sin", "cos",
           "tan", "arcsin", "arccos", "arctan", "arctan2", "sinh", "cosh", "arcsinh", "arccosh",
           "arctanh", "asin", "acos", "atan", "atan2", "asinh", "acosh", "atanh", "log2",
           "log10", "log1p", "exp2", "expm1", "logaddexp", "cbrt", "erf", "sign", "reciprocal",
           "neg", "pow", "clamp", "clip", "maximum", "minimum", "sum", "mean", "var", "std",
           "max", "min", "amax", "amin", "nonzero", "prod", "logsumexp", "argmax", "argmin",
           "all", "any", "norm",
           "cumsum", "cumprod", "softmax", "log_softmax", "matmul", "mm", "reshape",
           "transpose", "permute", "flatten", "squeeze", "unsqueeze", "flip", "roll", "gather",
           "index_select", "masked_fill", "split", "chunk", "unbind", "topk", "sort", "argsort",
           "isnan", "isinf", "isfinite", "numel", "clone", "swapaxes", "moveaxis", "movedim",
           "repeat_interleave", "eq", "ne", "lt", "le", "gt", "ge", "equal"]
