"""Higher-order gradients: tg.grad(create_graph=True), gradgradcheck, tg.autograd.functional.

The core property, for EVERY differentiable op (every Function subclass in ops/ and
functional/, found by walking the packages, so that an op added later without a case here
fails ``test_every_op_is_twice_differentiable_and_has_a_case``): the Hessian-vector product
H·v from a second backward pass agrees with centred finite differences of the first
derivative, (∇J(x + εv) − ∇J(x − εv)) / 2ε, in float64, over random shapes (broadcasting
included) and values kept away from the kinks (where the second derivative is 0 by
PyTorch's convention and is tested exactly instead).
"""

import importlib
import pkgutil

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_ng as tg
import tinygrad_ng.functional as F
from tinygrad_ng import Tensor, ops, xp
from tinygrad_ng.autograd import functional as AF
from tinygrad_ng.function import Function
from tinygrad_ng.testing.strategies import arrays, axes, broadcastable_shapes, shapes


def leaves(arrays_):
    return [Tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays_]


def objective(fn, xs, w, c):
    """J = Σ w ⊙ out + Σ (c ⊙ out)²: ∂J/∂out depends on out, so the second derivative runs
    through the op's backward rule in both its arguments (the input and the gradient)."""
    out = fn(*xs)
    return (out * w).sum() + ((out * c) ** 2).sum()


def check_hvp(fn, arrays_, eps=1e-6, seed=0):
    """H·v by double backward against finite differences of the gradient, for random w, c,
    v; the first derivative under create_graph equals the plain one."""
    rng = np.random.default_rng(seed)
    xs = leaves(arrays_)
    with tg.no_grad():
        shape = fn(*xs).shape
    w, c = rng.standard_normal(shape), rng.standard_normal(shape)
    v = [rng.standard_normal(x.shape) for x in xs]

    def gradient(values):
        ts = leaves(values)
        return tg.grad(objective(fn, ts, w, c), ts, allow_unused=True)

    grads = tg.grad(objective(fn, xs, w, c), xs, create_graph=True, allow_unused=True)
    for g, plain in zip(grads, gradient(arrays_)):
        np.testing.assert_allclose(g.data, plain, rtol=1e-12, atol=1e-12)
    inner = sum((g * vi).sum() for g, vi in zip(grads, v) if g.requires_grad)
    hv = tg.grad(inner, xs, allow_unused=True) if isinstance(inner, Tensor) else [None] * len(xs)
    plus = gradient([x.data + eps * vi for x, vi in zip(xs, v)])
    minus = gradient([x.data - eps * vi for x, vi in zip(xs, v)])
    for i, (h, p, m) in enumerate(zip(hv, plus, minus)):
        numeric = (p - m) / (2 * eps)
        h = np.zeros_like(numeric) if h is None else h
        np.testing.assert_allclose(h, numeric, rtol=1e-5, atol=1e-6,
                                   err_msg=f"H·v for input {i}")


def pair(low=-3.0, high=3.0, **kw):
    return broadcastable_shapes(2).flatmap(
        lambda s: st.tuples(arrays(s[0], low, high, **kw), arrays(s[1], low, high, **kw)))


def distinct(shape):
    """Values without ties (max/min have one winner)."""
    n = int(np.prod(shape))
    return st.permutations(list(np.linspace(-2, 2, n))).map(
        lambda v: np.array(v, dtype=np.float64).reshape(shape))


def untied_pair(data):
    a, b = data.draw(pair())
    return a, np.where(np.abs(a - b) < 1e-3, b + 0.5, b)


# ----------------------------------------------------------------------------- one case per op
# Each case draws (fn, arrays) from hypothesis' ``data``; keyed by the op's class name.


def _matmul(data):
    k, n, m = (data.draw(st.integers(1, 3)) for _ in range(3))
    kind = data.draw(st.sampled_from(["2d", "vec-mat", "mat-vec", "dot", "batched"]))
    a_shape = {"2d": (m, k), "vec-mat": (k,), "mat-vec": (m, k), "dot": (k,)}.get(kind)
    b_shape = {"2d": (k, n), "vec-mat": (k, n), "mat-vec": (k,), "dot": (k,)}.get(kind)
    if kind == "batched":
        ba, bb = data.draw(broadcastable_shapes(2, max_dims=2, max_side=3))
        a_shape, b_shape = ba + (m, k), bb + (k, n)
    return (lambda a, b: a @ b), [data.draw(arrays(a_shape)), data.draw(arrays(b_shape))]


def _where(data):
    a, b = data.draw(pair())
    cond = data.draw(hnp.arrays(np.bool_, np.broadcast_shapes(a.shape, b.shape)))
    return (lambda x, y: tg.where(cond, x * y, y)), [a, b]


def _reduction(method, values=None, ddof=0):
    def case(data):
        shape = data.draw(shapes(min_dims=1, max_dims=3))
        axis = data.draw(axes(len(shape)))
        keep = data.draw(st.booleans())
        x = data.draw(values(shape) if values else arrays(shape))
        kw = {"ddof": ddof} if method == "var" else {}
        n = x.size if axis is None else int(np.prod([shape[a] for a in np.atleast_1d(axis)]))
        if n <= ddof:
            kw = {}
        return (lambda t: getattr(t, method)(axis=axis, keepdims=keep, **kw)), [x]
    return case


def _index(data):
    x = data.draw(arrays(shapes(min_dims=2, max_dims=3, min_side=2)))
    n = x.shape[0]
    idx = np.array(data.draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=5)))
    kind = data.draw(st.sampled_from(["basic", "repeats", "mask"]))
    mask = data.draw(hnp.arrays(np.bool_, x.shape))
    pick = {"basic": lambda t: t[1:, ::-1], "repeats": lambda t: t[idx],
            "mask": lambda t: t[mask]}[kind]
    return (lambda t: pick(t * t)), [x]


def _scatter(data):
    x = data.draw(arrays(shapes(min_dims=1, max_dims=2, min_side=2)))
    n = x.shape[0]
    idx = np.array(data.draw(st.lists(st.integers(0, n + 1), min_size=n, max_size=n)))
    return (lambda t: xp.scatter((n + 2,) + x.shape[1:], idx, t.exp())), [x]


def _concatenate(data):
    shape = data.draw(shapes(min_dims=1, max_dims=3))
    axis = data.draw(st.integers(0, len(shape) - 1))
    other = list(shape)
    other[axis] = data.draw(st.integers(1, 3))
    a, b = data.draw(arrays(shape)), data.draw(arrays(tuple(other)))
    return (lambda x, y: tg.concatenate([x * y.sum(), y, x], axis=axis)), [a, b]


def _stack(data):
    shape = data.draw(shapes(min_dims=0, max_dims=3))
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    a, b = data.draw(arrays(shape)), data.draw(arrays(shape))
    return (lambda x, y: tg.stack([x * y, y], axis=axis)), [a, b]


def _unary(method, avoid=None, low=-3.0, high=3.0, **kw):
    def case(data):
        x = data.draw(arrays(low=low, high=high, avoid=avoid))
        return (lambda t: getattr(t, method)(**kw)), [x]
    return case


def _softmax(method):
    def case(data):
        x = data.draw(arrays(shapes(min_dims=1)))
        axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
        return (lambda t: getattr(F, method)(t, axis)), [x]
    return case


def _cross_entropy(data):
    shape = data.draw(shapes(min_dims=1, max_dims=3, min_side=1))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    z = data.draw(arrays(shape))
    reduction = data.draw(st.sampled_from(["mean", "sum", "none"]))
    eps = data.draw(st.sampled_from([0.0, 0.1]))
    k, rest = shape[axis], shape[:axis % len(shape)] + shape[axis % len(shape) + 1:]
    if data.draw(st.booleans()):  # class indices
        y = data.draw(hnp.arrays(np.int64, rest, elements=st.integers(0, k - 1)))
        return (lambda t: F.cross_entropy(t, y, axis, reduction, eps)), [z]
    y = data.draw(arrays(shape, low=0.0, high=1.0))  # soft targets that require grad
    return (lambda t, u: F.cross_entropy(t, u, axis, reduction, eps)), [z, y]


def _pointwise(fn, low=-3.0, high=3.0):
    def case(data):
        shape = data.draw(shapes())
        reduction = data.draw(st.sampled_from(["mean", "sum", "none"]))
        x, y = data.draw(arrays(shape, low, high)), data.draw(arrays(shape, 0.0, 1.0))
        return (lambda a, b: fn(a, b, reduction=reduction)), [x, y]
    return case


def _linear(data):
    n_in, n_out = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    batch = data.draw(shapes(min_dims=1, max_dims=2, max_side=3))
    x, w = data.draw(arrays(batch + (n_in,))), data.draw(arrays((n_out, n_in)))
    if data.draw(st.booleans()):
        return (lambda a, b: F.linear(a, b)), [x, w]
    return (lambda a, b, c: F.linear(a, b, c)), [x, w, data.draw(arrays((n_out,)))]


def _batch_norm(data):
    shape = data.draw(shapes(min_dims=2, max_dims=3, min_side=2, max_side=3))
    c = shape[1]
    x, gamma, beta = (data.draw(arrays(s)) for s in (shape, (c,), (c,)))
    if data.draw(st.booleans()):  # evaluation: the running statistics are constants
        stats = (data.draw(arrays((c,))), data.draw(arrays((c,), 0.5, 2.0)))
        return (lambda a, g, b: F.batch_norm(a, g, b, *stats, training=False)), [x, gamma, beta]
    if data.draw(st.booleans()):
        return (lambda a: F.batch_norm(a)), [x]
    return (lambda a, g, b: F.batch_norm(a, g, b)), [x, gamma, beta]


def _binary(method, low=-3.0, high=3.0):
    return lambda d: ((lambda a, b: getattr(a, method)(b)), list(d.draw(pair(low, high))))


def _scan(method, low=-2.0, high=2.0):
    def case(data):
        shape = data.draw(shapes(min_dims=1, max_dims=3))
        axis = data.draw(st.integers(-len(shape), len(shape) - 1))
        return (lambda t: getattr(t, method)(axis=axis)), [data.draw(arrays(shape, low, high))]
    return case


def _norm(data):
    x = data.draw(arrays(shapes(min_dims=1, max_dims=3), 0.5, 2.0))
    p = data.draw(st.sampled_from([2, 1, 3]))
    return (lambda t: t.norm(p)), [x * np.sign(data.draw(arrays(x.shape, avoid=0.0)))]


def _layer_norm(data):
    shape = data.draw(shapes(min_dims=1, max_dims=3, min_side=2, max_side=3))
    k = data.draw(st.integers(1, len(shape)))
    normalized = shape[len(shape) - k:]
    x, w, b = (data.draw(arrays(s)) for s in (shape, normalized, normalized))
    spread = np.arange(x.size, dtype=np.float64).reshape(shape) % 3  # well-conditioned
    return (lambda a, g, c: F.layer_norm(a, normalized, g, c)), [x * 0.2 + spread, w, b]


def _activation(fn, avoid=None, low=-3.0, high=3.0, **kw):
    return lambda d: ((lambda t: fn(t, **kw)), [d.draw(arrays(low=low, high=high, avoid=avoid))])


def _conv2d(data):
    c_in, c_out, groups = data.draw(st.sampled_from([(2, 2, 1), (2, 4, 2), (1, 3, 1)]))
    k = (data.draw(st.integers(1, 2)), data.draw(st.integers(1, 3)))
    stride, padding = data.draw(st.integers(1, 2)), data.draw(st.integers(0, 1))
    x = data.draw(arrays((2, c_in, 4, 4)))
    w = data.draw(arrays((c_out, c_in // groups) + k))
    return (lambda a, b: F.conv2d(a, b, stride=stride, padding=padding, groups=groups)), [x, w]


def _conv_transpose2d(data):
    stride, padding = data.draw(st.integers(1, 2)), data.draw(st.integers(0, 1))
    y, w, b = data.draw(arrays((2, 2, 3, 3))), data.draw(arrays((2, 3, 2, 2))), \
        data.draw(arrays((3,)))
    return (lambda a, c, d: F.conv_transpose2d(a, c, d, stride=stride, padding=padding)), \
        [y, w, b]


def _conv2d_weight(data):
    from tinygrad_ng.functional.conv import conv_geometry

    stride = data.draw(st.integers(1, 2))
    x = data.draw(arrays((2, 2, 4, 5)))
    geom = conv_geometry(x.shape, (3, 2, 2, 2), stride=stride, padding=1)
    y = data.draw(arrays((2, 3) + tuple(geom.out)))
    return (lambda a, g: F.Conv2dWeight.apply(a, g, None, geom=geom)), [x, y]


def _max_pool2d(data):
    x = distinct((1, 2, 4, 5))
    k, stride = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    ceil = data.draw(st.booleans())
    return (lambda t: F.max_pool2d(t * t, k, stride, ceil_mode=ceil)), [data.draw(x) + 3.0]


def _max_unpool(data):
    plane = (1, 2, 4, 4)
    index = data.draw(hnp.arrays(np.int64, (1, 2, 2, 2), elements=st.integers(0, 31)))
    return (lambda g: F.MaxUnpool.apply(g.exp(), index=index, shape=plane, unique=False)), \
        [data.draw(arrays((1, 2, 2, 2)))]


def _pad(data):
    mode = data.draw(st.sampled_from(["constant", "reflect", "replicate"]))
    widths = tuple(data.draw(st.integers(0, 2)) for _ in range(4))
    return (lambda t: F.pad(t * t, widths, mode=mode)), [data.draw(arrays((2, 3, 3)))]


def _embedding(data):
    idx = data.draw(hnp.arrays(np.int64, data.draw(shapes(min_dims=1, max_dims=2)),
                               elements=st.integers(0, 3)))
    return (lambda w: F.embedding(idx, w * w)), [data.draw(arrays((4, 3)))]


def _recurrent(layer, states=1):
    def case(data):
        t, b, i, h = (data.draw(st.integers(1, 3)) for _ in range(4))
        gates = {F.rnn_layer: 1, F.lstm_layer: 4, F.gru_layer: 3}[layer]
        reverse = data.draw(st.booleans())
        x = data.draw(arrays((t, b, i), -1.0, 1.0))
        hs = [data.draw(arrays((b, h), -1.0, 1.0)) for _ in range(states)]
        ws = [data.draw(arrays((gates * h, n), -1.0, 1.0)) for n in (i, h)]
        bs = [data.draw(arrays((gates * h,), -1.0, 1.0)) for _ in range(2)]
        return (lambda *a: layer(*a, reverse=reverse)), [x, *hs, *ws, *bs]
    return case


def _dropout(data):
    x = data.draw(arrays())
    mask = data.draw(hnp.arrays(np.bool_, x.shape))
    return (lambda t: F.Dropout.apply(t * t, mask=mask, scale=2.0)), [x]


CASES = {
    "Add": lambda d: ((lambda a, b: a + b), list(d.draw(pair()))),
    "Sub": lambda d: ((lambda a, b: a - b), list(d.draw(pair()))),
    "Mul": lambda d: ((lambda a, b: a * b), list(d.draw(pair()))),
    "Div": lambda d: ((lambda a, b: a / b), list(d.draw(pair(0.5, 3.0)))),
    "Pow": lambda d: ((lambda a, b: a ** b), list(d.draw(pair(0.5, 2.0)))),
    "MatMul": _matmul,
    "Maximum": lambda d: ((lambda a, b: a.maximum(b)), list(untied_pair(d))),
    "Minimum": lambda d: ((lambda a, b: a.minimum(b)), list(untied_pair(d))),
    "Where": _where,
    "Neg": _unary("__neg__"),
    "Exp": _unary("exp"),
    "Log": _unary("log", low=0.2, high=5.0),
    "Sqrt": _unary("sqrt", low=0.2, high=5.0),
    "Abs": _unary("abs", avoid=0.0),
    "Square": _unary("square"),
    "Clip": lambda d: ((lambda t: t.clip(-1.0, 1.0)),
                       [d.draw(arrays(avoid=1.0).filter(lambda x: np.all(np.abs(x + 1) > 1e-3)))]),
    "Cast": lambda d: ((lambda t: ops.Cast.apply(t, dtype=np.float64) ** 3),
                       [d.draw(arrays())]),
    "Sum": _reduction("sum"),
    "Mean": _reduction("mean"),
    "Var": _reduction("var", ddof=1),
    "Max": _reduction("max", distinct),
    "Min": _reduction("min", distinct),
    "LogSumExp": _reduction("logsumexp"),
    "Reshape": lambda d: ((lambda t: t.reshape(-1)), [d.draw(arrays())]),
    "Transpose": lambda d: ((lambda t: t.T), [d.draw(arrays())]),
    "BroadcastTo": lambda d: (lambda x: ((lambda t: t.broadcast_to((2,) + x.shape)), [x]))(
        d.draw(arrays())),
    "Index": _index,
    "Scatter": _scatter,
    "Concatenate": _concatenate,
    "Stack": _stack,
    "Sigmoid": _unary("sigmoid", low=-6.0, high=6.0),
    "Tanh": _unary("tanh"),
    "ReLU": _unary("relu", avoid=0.0),
    "LeakyReLU": _unary("leaky_relu", avoid=0.0, negative_slope=0.1),
    "Softmax": _softmax("softmax"),
    "LogSoftmax": _softmax("log_softmax"),
    "CrossEntropy": _cross_entropy,
    "MSELoss": _pointwise(F.mse_loss),
    "BinaryCrossEntropy": _pointwise(F.binary_cross_entropy, 0.05, 0.95),
    "BinaryCrossEntropyWithLogits": _pointwise(F.binary_cross_entropy_with_logits),
    "Linear": _linear,
    "BatchNorm": _batch_norm,
    "Dropout": _dropout,
    "Sin": _unary("sin"),
    "Cos": _unary("cos"),
    "Tan": _unary("tan", low=-1.2, high=1.2),
    "Arcsin": _unary("arcsin", low=-0.9, high=0.9),
    "Arccos": _unary("arccos", low=-0.9, high=0.9),
    "Arctan": _unary("arctan"),
    "Sinh": _unary("sinh"),
    "Cosh": _unary("cosh"),
    "Arcsinh": _unary("arcsinh"),
    "Arccosh": _unary("arccosh", low=1.2, high=4.0),
    "Arctanh": _unary("arctanh", low=-0.9, high=0.9),
    "Arctan2": _binary("arctan2", 0.5, 3.0),
    "LogAddExp": _binary("logaddexp"),
    "Log2": _unary("log2", low=0.2, high=5.0),
    "Log10": _unary("log10", low=0.2, high=5.0),
    "Log1p": _unary("log1p", low=-0.8, high=3.0),
    "Exp2": _unary("exp2"),
    "Expm1": _unary("expm1"),
    "Cbrt": _unary("cbrt", low=0.3, high=3.0),
    "Erf": _unary("erf"),
    "Sign": _unary("sign", avoid=0.0),
    "Clone": lambda d: ((lambda t: t.clone() ** 3), [d.draw(arrays())]),
    "CumSum": _scan("cumsum"),
    "CumProd": _scan("cumprod"),
    "Norm": _norm,
    "ELU": _activation(F.elu, avoid=0.0, alpha=0.7),
    "GELU": _activation(F.gelu),
    "Softplus": _activation(F.softplus, beta=2.0),
    "Hardtanh": lambda d: ((lambda t: F.hardtanh(t)),
                           [d.draw(arrays().filter(lambda x: np.all(abs(abs(x) - 1) > 1e-3)))]),
    "LayerNorm": _layer_norm,
    "Conv2d": _conv2d,
    "ConvTranspose2d": _conv_transpose2d,
    "Conv2dWeight": _conv2d_weight,
    "MaxPool2d": _max_pool2d,
    "MaxUnpool": _max_unpool,
    "ConstantPad": _pad,
    "Embedding": _embedding,
    "RNNLayer": _recurrent(F.rnn_layer),
    "LSTMLayer": _recurrent(F.lstm_layer, states=2),
    "GRULayer": _recurrent(F.gru_layer),
}

#: Ops deliberately differentiable once only (their second derivative raises): none today.
ONCE_DIFFERENTIABLE: set[str] = set()


def op_classes():
    """Every concrete Function subclass defined in tinygrad_ng.ops and tinygrad_ng.functional."""
    for pkg in (tg.ops, tg.functional):
        for info in pkgutil.iter_modules(pkg.__path__):
            importlib.import_module(f"{pkg.__name__}.{info.name}")
    found, todo = {}, [Function]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith(("tinygrad_ng.ops", "tinygrad_ng.functional")) \
                    and not sub.__name__.startswith("_"):
                found[sub.__name__] = sub
    return found


def test_every_op_is_twice_differentiable_and_has_a_case():
    classes = op_classes()
    assert len(classes) >= 40
    for name, cls in classes.items():
        assert cls.twice_differentiable or cls.composed is not None \
            or name in ONCE_DIFFERENTIABLE, f"{name} is not differentiable twice"
        assert name in CASES or name in ONCE_DIFFERENTIABLE, f"{name} has no HVP case below"
    assert set(CASES) <= set(classes)


@pytest.mark.parametrize("name", sorted(CASES))
@given(data=st.data())
def test_hessian_vector_product_matches_finite_differences(name, data):
    fn, arrays_ = CASES[name](data)
    check_hvp(fn, arrays_)


def test_hvp_check_catches_a_saved_output_taken_as_a_constant(monkeypatch):
    """Mutation check of the checker: a sigmoid backward whose saved output is a constant
    has the right first derivative but a wrong second one."""
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        a = xp.value(a)
        return g * a * (1 - a)

    monkeypatch.setattr(F.Sigmoid, "backward", staticmethod(backward))
    with pytest.raises(AssertionError, match="H·v"):
        check_hvp(lambda t: t.sigmoid(), [np.array([0.3, -1.2, 2.0])])


# ----------------------------------------------------------------------------- gradgradcheck
GRADGRAD = {
    "mlp_cross_entropy": (lambda x, w, b: F.cross_entropy(F.linear(x, w, b).tanh(),
                                                           np.array([0, 2, 1])),
                          [(3, 4), (3, 4), (3,)]),
    "batch_norm_relu_mse": (lambda x, g, b: F.mse_loss(F.batch_norm(x, g, b).sigmoid(),
                                                        np.full((4, 3), 0.5)),
                            [(4, 3), (3,), (3,)]),
    "pow_logsumexp_var": (lambda a, b: (a.abs() + 1) ** b.tanh() + a.logsumexp(0) * b.var(),
                          [(3, 2), (2,)]),
    "softmax_matmul": (lambda a, b: (a @ b).softmax(0) * b.sum(), [(2, 3), (3, 2)]),
}


@pytest.mark.parametrize("name", sorted(GRADGRAD))
def test_gradgradcheck(name):
    fn, shapes_ = GRADGRAD[name]
    rng = np.random.default_rng(1)
    assert tg.gradgradcheck(fn, [Tensor(rng.standard_normal(s), requires_grad=True)
                                 for s in shapes_])


class Cube(tg.Function):
    """A user op with a NumPy-only backward (no opt-in)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.power(x, 3)

    @staticmethod
    def backward(ctx, g):
        return g * 3 * np.square(ctx.saved_tensors[0])


class ComposedCube(Cube):
    @staticmethod
    def composed(x):
        return x * x * x


class HalfCurvedCube(Cube):
    """Right first derivative; the second derivative is half the truth (one factor x is
    taken as a constant)."""

    twice_differentiable = True

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x * xp.value(x)


def test_gradgradcheck_names_the_worst_element_of_a_wrong_second_derivative():
    x = Tensor(np.array([0.5, -2.0, 1.0]), requires_grad=True)
    assert tg.gradcheck(lambda t: HalfCurvedCube.apply(t), [x])
    with pytest.raises(tg.GradcheckError, match=r"input 0 \(3,\): MISMATCH.*worst element \(\d,\)"):
        tg.gradgradcheck(lambda t: HalfCurvedCube.apply(t), [x])
    assert not tg.gradgradcheck(lambda t: HalfCurvedCube.apply(t), [x], raise_exception=False)


def test_gradgradcheck_of_a_linear_function_passes_with_zero_second_derivative():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    assert tg.gradgradcheck(lambda t: t * 3.0, [x])


# ----------------------------------------------------------------------------- higher orders
def test_third_and_fourth_derivatives_of_known_functions():
    x = Tensor(np.array([0.5, 1.5, -0.7]), requires_grad=True)
    v = x.data
    g1, = tg.grad((x.exp() * x).sum(), x, create_graph=True)
    g2, = tg.grad(g1.sum(), x, create_graph=True)
    g3, = tg.grad(g2.sum(), x, create_graph=True)
    g4, = tg.grad(g3.sum(), x)
    for k, g in enumerate((g1.data, g2.data, g3.data, g4), start=1):
        np.testing.assert_allclose(g, np.exp(v) * (v + k))  # dᵏ/dxᵏ x·eˣ = (x + k)·eˣ
    t = Tensor(np.array([0.3, -0.4]), requires_grad=True)
    s1, = tg.grad(t.tanh().sum(), t, create_graph=True)
    s2, = tg.grad(s1.sum(), t, create_graph=True)
    s3, = tg.grad(s2.sum(), t)
    th = np.tanh(t.data)
    np.testing.assert_allclose(s3, -2 * (1 - th ** 2) * (1 - 3 * th ** 2))


@pytest.mark.parametrize("fn", [
    lambda t: F.log_softmax(t * t, 0),
    lambda t: F.cross_entropy((t * t).reshape(1, -1), np.array([1])),
    lambda t: (t.sigmoid() @ t.exp()) * t.max(),
], ids=["log_softmax", "cross_entropy", "sigmoid_matmul_max"])
def test_third_order_matches_finite_differences_of_hvp(fn):
    x = Tensor(np.array([0.4, -1.1, 0.9]), requires_grad=True)
    u, v = np.array([1.0, 0.5, -2.0]), np.array([-0.3, 1.0, 0.7])

    def hvp_at(values, create_graph=False):
        t = Tensor(values, requires_grad=True) if not create_graph else values
        out = fn(t)
        j = (out * np.linspace(1, 2, out.size).reshape(out.shape)).sum()
        g, = tg.grad(j, t, create_graph=True)
        h, = tg.grad((g * u).sum(), t, create_graph=create_graph)
        return h

    h = hvp_at(x, create_graph=True)
    third, = tg.grad((h * v).sum(), x)
    eps = 1e-5
    numeric = (hvp_at(x.data + eps * v) - hvp_at(x.data - eps * v)) / (2 * eps)
    np.testing.assert_allclose(third, numeric, rtol=1e-5, atol=1e-7)


def test_second_derivative_at_kinks_is_zero_as_pytorch():
    x = Tensor(np.array([-1.0, 0.0, 2.0, 2.0]), requires_grad=True)
    for fn in (lambda t: t.relu() * t, lambda t: t.abs() * t, lambda t: t.clip(0.0, 2.0) * t,
               lambda t: t.max() * t):
        g, = tg.grad(fn(x).sum(), x, create_graph=True)
        h, = tg.grad(g.sum(), x)
        assert np.all(np.isfinite(h))
    g, = tg.grad(x.relu().sum(), x, create_graph=True)
    assert not g.requires_grad or np.all(tg.grad(g.sum(), x, allow_unused=True)[0] == 0)


def test_gradient_penalty_trains_through_the_gradient():
    """WGAN-GP style: the norm of ∂D/∂x enters the loss, and its gradient w.r.t. the
    weights matches finite differences."""
    rng = np.random.default_rng(3)
    x = Tensor(rng.standard_normal((4, 3)), requires_grad=True)

    def penalty(w):
        with tg.enable_grad():  # (gradcheck evaluates its finite differences in no_grad)
            d = F.linear(x, w).tanh().sum()
            g, = tg.grad(d, x, create_graph=True)
            return ((g * g).sum(axis=1).sqrt() - 1) ** 2

    assert tg.gradcheck(lambda w: penalty(w).mean(), [Tensor(rng.standard_normal((2, 3)),
                                                              requires_grad=True)])


def test_inputs_sharing_one_array_are_told_apart():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    g, = tg.grad((x * x.detach() * x).sum(), x, create_graph=True)  # c·x², c = x held fixed
    h, = tg.grad(g.sum(), x)
    np.testing.assert_allclose(g.data, 2 * x.data ** 2)
    np.testing.assert_allclose(h, 2 * x.data)
    twin = Tensor(x.data, requires_grad=True)  # a second leaf on the same array
    H = AF.hessian(lambda a, b: (a * b * a).sum(), (x, twin))
    np.testing.assert_allclose(H[0][0].data, np.diag(2 * x.data))
    np.testing.assert_allclose(H[0][1].data, np.diag(2 * x.data))
    np.testing.assert_allclose(H[1][1].data, np.zeros((2, 2)))


def test_create_graph_gradients_are_tensors_and_plain_ones_arrays():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = (x ** 3).sum()
    g, = tg.grad(y, x, create_graph=True)
    assert isinstance(g, Tensor) and g.requires_grad and g.op is not None
    plain, = tg.grad(y, x)  # the graph was kept (retain_graph defaults to create_graph)
    assert isinstance(plain, np.ndarray)
    np.testing.assert_allclose(g.data, plain)
    assert x.grad is None


def test_grad_outputs_that_require_grad_are_differentiated_too():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    u = Tensor(np.array([3.0, -1.0]), requires_grad=True)
    g, = tg.grad(x * x, x, grad_outputs=u, create_graph=True)  # 2x·u
    du, = tg.grad(g.sum(), u)
    np.testing.assert_allclose(du, 2 * x.data)


# ----------------------------------------------------------------------------- bad input
def test_backward_with_create_graph_points_to_tg_grad():
    x = Tensor(np.array([1.0]), requires_grad=True)
    with pytest.raises(RuntimeError, match="tg.grad"):
        (x * x).sum().backward(create_graph=True)


def test_create_graph_on_a_freed_graph_names_the_op():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = (x.exp() * 2.0).sum()
    tg.grad(y, x)  # frees it
    with pytest.raises(RuntimeError, match="'sum'.*already freed.*retain_graph"):
        tg.grad(y, x, create_graph=True)


def test_second_derivative_of_a_gradient_that_is_constant_is_explained():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    g, = tg.grad((x * 3.0).sum(), x, create_graph=True)
    assert not g.requires_grad
    with pytest.raises(RuntimeError, match="does not require grad"):
        tg.grad(g.sum(), x)
    h = AF.hessian(lambda t: (t * 3.0).sum(), x)  # the functional API gives zeros
    np.testing.assert_array_equal(h.data, np.zeros((2, 2)))


def test_integer_path_is_not_differentiable():
    x = Tensor(np.array([1.5, 2.5]), requires_grad=True)
    as_int = x.astype(np.int64)
    assert not as_int.requires_grad
    with pytest.raises(RuntimeError, match="does not require grad"):
        tg.grad(as_int.astype(np.float64).sum(), x, create_graph=True)
    with pytest.raises(TypeError, match="input 0 has dtype int64"):
        AF.hessian(lambda t: t.sum(), Tensor(np.array([1, 2])))


def test_allow_unused_names_the_input_or_gives_none():
    x = Tensor(np.array([1.0]), requires_grad=True)
    unused = Tensor(np.array([2.0]), requires_grad=True, name="bias")
    y = (x * x).sum()
    with pytest.raises(RuntimeError, match="input 1 'bias'.*allow_unused=True"):
        tg.grad(y, [x, unused], create_graph=True)
    g, none = tg.grad(y, [x, unused], create_graph=True, allow_unused=True)
    assert none is None and g.requires_grad


def test_user_function_without_opt_in_raises_when_differentiated_twice():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    g, = tg.grad(Cube.apply(x).sum(), x, create_graph=True)  # the first derivative is right
    np.testing.assert_allclose(g.data, 3 * x.data ** 2)
    with pytest.raises(RuntimeError, match="Cube: its backward runs on NumPy arrays only"):
        tg.grad(g.sum(), x)


def test_composed_form_of_a_user_function_is_used():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    g, = tg.grad(ComposedCube.apply(x).sum(), x, create_graph=True)
    h, = tg.grad(g.sum(), x)
    np.testing.assert_allclose(h, 6 * x.data)


# ----------------------------------------------------------------------------- drawing
def test_drawing_of_a_gradient_shows_the_backward_pass_with_values():
    from tinygrad_ng.viz import draw_graph

    a, b, c = (Tensor(v, requires_grad=True, name=n) for v, n in ((5.0, "a"), (3.0, "b"),
                                                                   (2.0, "c")))
    seed = Tensor(1.0, requires_grad=True, name="dJ/dJ")
    _, db, _ = tg.grad(3 * (a + b * c), [a, b, c], grad_outputs=seed, create_graph=True)
    source = draw_graph(db, show_grads=False).source
    assert 'label="backward of mul"' in source  # the nodes a backward rule made, boxed
    assert "dJ/dJ" in source and "value = 6" in source and "value = 3" in source
    assert ">c<" in source and ">a<" not in source  # c is read by the backward pass; a is not
    assert not tg.autograd.scopes  # the scope was popped


def test_scopes_are_restored_when_a_backward_rule_raises():
    class Broken(tg.Function):
        twice_differentiable = True

        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            raise ValueError("broken backward")

    x = Tensor(np.array([1.0]), requires_grad=True)
    with pytest.raises(ValueError, match="broken backward"):
        tg.grad(Broken.apply(x).sum(), x, create_graph=True)
    assert not tg.autograd.scopes and tg.autograd.state.node is None


@pytest.mark.parametrize("fn", [
    lambda z, y: F.binary_cross_entropy(z.sigmoid(), y),
    lambda z, y: F.binary_cross_entropy_with_logits(z, y),
    lambda z, y: F.cross_entropy(z.reshape(2, 2), y.reshape(2, 2)),
    lambda z, y: F.log_softmax(z, 0).sum() * y.sum() + z.logsumexp() + z.sigmoid().sum(),
    lambda z, y: (z.tanh() * y).sum() + F.softmax(z, 0).max(),
], ids=["bce", "bce_logits", "cross_entropy", "log_softmax_logsumexp", "tanh_softmax"])
def test_second_derivatives_at_extreme_inputs_are_finite(fn):
    z = Tensor(np.array([-1e4, -50.0, 60.0, 1e4]), requires_grad=True)
    y = Tensor(np.array([0.0, 1.0, 0.3, 1.0]), requires_grad=True)
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        grads = tg.grad(fn(z, y), [z, y], create_graph=True)
        second = tg.grad(sum((g * g).sum() for g in grads), [z, y], allow_unused=True)
    assert all(np.all(np.isfinite(s)) for s in second if s is not None)


def test_bce_second_derivative_at_probabilities_0_and_1_is_finite():
    a = Tensor(np.array([0.0, 1.0, 0.5]), requires_grad=True)
    y = Tensor(np.array([0.2, 0.7, 1.0]), requires_grad=True)
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        ga, gy = tg.grad(F.binary_cross_entropy(a, y), [a, y], create_graph=True)
        second = tg.grad((ga * ga).sum() + (gy * gy).sum(), [a, y])
    assert all(np.all(np.isfinite(s)) for s in second)
