"""The primitive ops: one small class each, holding forward, backward and the local derivative.

Conventions: ``forward(ctx, *arrays, **params)`` returns an array; ``backward(ctx, g)``
returns one gradient per input, where ``g`` is ∂J/∂out. A gradient may keep the broadcast
shape of the output: the engine sums it back to the input's shape. ``ctx.needs_input_grad``
lets an op skip work for inputs that need no gradient.

Every backward is written with Python operators and :mod:`tinygrad_ng.xp`, saving only the
op's inputs, its output and constant masks: it runs on arrays for ``backward()`` and on
Tensors under ``tg.grad(..., create_graph=True)``, so every op is differentiable twice.
"""

from .arithmetic import Add, Div, MatMul, Maximum, Minimum, Mul, Pow, Sub, Where
from .cumulative import CumProd, CumSum
from .elementwise import Abs, Cast, Clip, Clone, Exp, Log, Neg, Sqrt, Square
from .maths import (
    Arccos,
    Arccosh,
    Arcsin,
    Arcsinh,
    Arctan,
    Arctan2,
    Arctanh,
    Cbrt,
    Cos,
    Cosh,
    Erf,
    Exp2,
    Expm1,
    Log1p,
    Log2,
    Log10,
    LogAddExp,
    Sign,
    Sin,
    Sinh,
    Tan,
)
from .reductions import LogSumExp, Max, Mean, Min, Norm, Sum, Var
from .shape import BroadcastTo, Concatenate, Index, Reshape, Scatter, Stack, Transpose

__all__ = [
    "Abs", "Add", "Arccos", "Arccosh", "Arcsin", "Arcsinh", "Arctan", "Arctan2", "Arctanh",
    "BroadcastTo", "Cast", "Cbrt", "Clip", "Clone", "Concatenate", "Cos", "Cosh", "CumProd",
    "CumSum", "Div", "Erf", "Exp", "Exp2", "Expm1", "Index", "Log", "Log1p", "Log2", "Log10",
    "LogAddExp", "LogSumExp", "MatMul", "Max", "Maximum", "Mean", "Min", "Minimum", "Mul",
    "Neg", "Norm", "Pow", "Reshape", "Scatter", "Sign", "Sin", "Sinh", "Sqrt", "Square",
    "Stack", "Sub", "Sum", "Tan", "Transpose", "Var", "Where",
]
