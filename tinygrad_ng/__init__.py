"""tinygrad_ng: a small reverse-mode autograd engine over NumPy that draws its graphs.

    import tinygrad_ng as tg
    a, b, c = (tg.Tensor(v, requires_grad=True) for v in (5.0, 3.0, 2.0))
    J = 3 * (a + b * c)        # J = 33
    J.backward()               # a.grad = 3, b.grad = 6, c.grad = 9
"""

import builtins

from . import (  # tg.data.DataLoader, tg.tune, ...: one import away
    allocator,
    autograd,
    data,
    functional,
    metrics,
    tune,
    utils,
    xp,
)
from . import functions as _functions
from .autograd import (
    AnomalyError,
    detect_anomaly,
    enable_grad,
    grad,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from .autograd import functional as _autograd_functional  # noqa: F401 (tg.autograd.functional)
from .creation import (
    empty,
    from_numpy,
    full_like,
    linspace,
    ones_like,
    rand_like,
    randint,
    randn_like,
    tensor,
    zeros_like,
)
from .dtypes import (
    bool_,
    double,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int8,
    int16,
    int32,
    int64,
    long,
    set_default_dtype,
    short,
    uint8,
)
from .function import Function
from .gradcheck import (
    GradcheckError,
    GradientCheckReport,
    check_model_gradients,
    gradcheck,
    gradgradcheck,
    numerical_grad,
)
from .jit import JitError, jit
from .random import manual_seed
from .tensor import (
    Tensor,
    arange,
    concatenate,
    eye,
    full,
    ones,
    rand,
    randn,
    stack,
    where,
    zeros,
)
from .tensor_pytorch import Size, ValuesIndices

# PyTorch's top-level functions (tg.exp, tg.sum, tg.max, ...: each the Tensor method) and
# names: tg.cat is concatenate; tg.bool, tg.float, tg.int are PyTorch's dtypes (float32, int32)
globals().update({name: getattr(_functions, name) for name in _functions.__all__})
cat = concatenate
bool = bool_  # noqa: A001
float = float32  # noqa: A001
int = int32  # noqa: A001

from . import nn, optim  # noqa: E402  (tg.nn.Linear, tg.optim.SGD as torch.nn, torch.optim)
from .nn import load, save  # noqa: E402  (torch.save / torch.load: .npz files, never pickle)

__version__ = "0.1.0"


def __getattr__(name: str):
    """``tg.onnx`` is imported on first use: a tool on top of the engine, not part of it."""
    if name == "onnx":
        import importlib

        return importlib.import_module(".onnx", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AnomalyError", "Function", "GradcheckError", "GradientCheckReport", "Tensor", "arange",
    "check_model_gradients", "concatenate", "detect_anomaly", "enable_grad", "eye", "full",
    "get_default_dtype", "grad", "gradcheck", "gradgradcheck", "is_grad_enabled", "jit",
    "JitError", "manual_seed", "no_grad",
    "numerical_grad", "ones", "rand", "randn", "set_default_dtype", "set_grad_enabled",
    "stack", "where", "zeros", "allocator", "autograd", "data", "functional", "metrics",
    "tune", "utils", "xp",
    "Size", "ValuesIndices", "bool_", "cat", "double", "empty", "float16",
    "float32", "float64", "from_numpy", "full_like", "half", "int8", "int16", "int32",
    "int64", "linspace", "long", "ones_like", "rand_like", "randint", "randn_like", "short",
    "tensor", "uint8", "zeros_like", "nn", "optim", "load", "save",
    # (names that would shadow Python's builtins under `from tinygrad_ng import *` - sum,
    # max, abs, float, ... - stay attributes only: tg.sum, tg.float)
    *(name for name in _functions.__all__ if not hasattr(builtins, name)),
]
