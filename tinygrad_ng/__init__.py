"""tinygrad_ng: a small reverse-mode autograd engine over NumPy that draws its graphs.

    import tinygrad_ng as tg
    a, b, c = (tg.Tensor(v, requires_grad=True) for v in (5.0, 3.0, 2.0))
    J = 3 * (a + b * c)        # J = 33
    J.backward()               # a.grad = 3, b.grad = 6, c.grad = 9
"""

from . import (  # tg.data.DataLoader, tg.tune, ...: one import away
    autograd,
    data,
    functional,
    tune,
    utils,
    xp,
)
from .autograd import (
    AnomalyError,
    detect_anomaly,
    enable_grad,
    grad,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from .dtypes import get_default_dtype, set_default_dtype
from .function import Function
from .gradcheck import (
    GradcheckError,
    GradientCheckReport,
    check_model_gradients,
    gradcheck,
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

__version__ = "0.1.0"

__all__ = [
    "AnomalyError", "Function", "GradcheckError", "GradientCheckReport", "Tensor", "arange",
    "check_model_gradients", "concatenate", "detect_anomaly", "enable_grad", "eye", "full",
    "get_default_dtype", "grad", "gradcheck", "is_grad_enabled", "jit", "JitError",
    "manual_seed", "no_grad",
    "numerical_grad", "ones", "rand", "randn", "set_default_dtype", "set_grad_enabled",
    "stack", "where", "zeros", "autograd", "data", "functional", "tune", "utils", "xp",
]
