"""The gradient checkers themselves: they must pass correct ops and catch wrong ones."""

import functools

import numpy as np
import pytest

import tinygrad_ng as tg
from tinygrad_ng import Tensor
from tinygrad_ng.gradcheck import gradcheck_report, relative_difference


class WrongSquare(tg.Function):
    """A planted bug: the derivative of x² written as x."""

    derivatives = ("x (wrong)",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x


def test_gradcheck_catches_a_wrong_backward():
    x = Tensor([1.0, 2.0, -3.0], requires_grad=True)
    with pytest.raises(tg.GradcheckError, match="MISMATCH"):
        tg.gradcheck(lambda t: WrongSquare.apply(t).sum(), [x])
    assert tg.gradcheck(lambda t: WrongSquare.apply(t).sum(), [x], raise_exception=False) is False
    (report,) = gradcheck_report(lambda t: WrongSquare.apply(t).sum(), [x])
    assert report.worst_index == (2,) and report.analytic == -3.0
    assert np.isclose(report.numerical, -6.0)
    assert np.isclose(report.relative_difference, relative_difference(2 * x.data, x.data))


def test_gradcheck_failure_names_the_function_or_the_ops_checked():
    x = Tensor([1.0, 2.0, -3.0], requires_grad=True)
    with pytest.raises(tg.GradcheckError, match=r"^gradcheck of Function WrongSquare failed"):
        tg.gradcheck(WrongSquare.apply, [x], grad_output=np.ones(3))
    with pytest.raises(tg.GradcheckError,
                       match=r"^gradcheck of .*<lambda> \(ops: exp, WrongSquare, sum\) failed"):
        tg.gradcheck(lambda t: WrongSquare.apply(t.exp()).sum(), [x])

    def loss(t, scale):
        return (WrongSquare.apply(t) * scale).mean()

    with pytest.raises(tg.GradcheckError, match=r"gradcheck of .*loss \(ops: WrongSquare, mul, "
                                                r"mean\) failed"):
        tg.gradcheck(functools.partial(loss, scale=2.0), [x])


def test_gradcheck_runs_in_float64_for_float32_inputs():
    x = tg.randn(3, 3, requires_grad=True)  # float32
    assert tg.gradcheck(lambda t: (t @ t).tanh(), [x])
    assert x.dtype == np.float32  # the caller's tensor is left alone


def test_gradcheck_skips_inputs_without_grad_and_handles_constants():
    x = Tensor(np.arange(3.0), requires_grad=True)
    c = Tensor(np.ones(3))
    assert tg.gradcheck(lambda a, b: (a * b * 0.5).exp(), [x, c])
    with pytest.raises(ValueError, match="requires_grad"):
        tg.gradcheck(lambda a: a, [c])


def test_numerical_grad_matches_known_derivative():
    x = Tensor(np.array([0.5, 1.5]), requires_grad=True)
    (g,) = tg.numerical_grad(lambda t: (t ** 3).sum(), [x])
    np.testing.assert_allclose(g, 3 * x.data ** 2, rtol=1e-6)
    (g,) = tg.numerical_grad(lambda t: t ** 3, [x], grad_output=np.array([1.0, 2.0]))
    np.testing.assert_allclose(g, np.array([1, 2]) * 3 * x.data ** 2, rtol=1e-6)


def test_relative_difference_is_the_course_formula():
    a, b = np.array([1.0, 2.0]), np.array([1.0, 2.5])
    expected = np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b))
    assert relative_difference(a, b) == pytest.approx(expected)
    assert relative_difference(np.zeros(2), np.zeros(2)) == 0.0


class TwoLayer:
    """A tiny model written with Tensor ops, and a parameter interface like nn.Module's."""

    def __init__(self, wrong=False):
        tg.manual_seed(3)
        self.W1, self.b1 = tg.randn(3, 2, requires_grad=True), tg.zeros(3, 1, requires_grad=True)
        self.W2, self.b2 = tg.randn(1, 3, requires_grad=True), tg.zeros(1, 1, requires_grad=True)
        self.wrong = wrong

    def named_parameters(self):
        return [("W1", self.W1), ("b1", self.b1), ("W2", self.W2), ("b2", self.b2)]

    def __call__(self, X):
        Z1 = self.W1 @ X + self.b1
        A1 = WrongSquare.apply(Z1) if self.wrong else Z1.tanh()
        return (self.W2 @ A1 + self.b2).sigmoid()


def bce(A, Y):
    return -(Y * A.log() + (1 - Y) * (1 - A).log()).mean()


def test_check_model_gradients_passes_a_correct_model_and_locates_a_bug():
    X = np.random.default_rng(0).standard_normal((2, 5)).astype(np.float32)
    Y = np.array([[0, 1, 1, 0, 1]], dtype=np.float32)
    good = tg.check_model_gradients(TwoLayer(), bce, X, Y)
    assert good.passed and good.difference < 1e-7
    assert set(good.per_parameter) == {"W1", "b1", "W2", "b2"}
    model = TwoLayer(wrong=True)
    before = model.W1.data.copy()
    bad = tg.check_model_gradients(model, bce, X, Y)
    assert not bad.passed and bad.difference > 1e-3
    assert bad.per_parameter["W1"] > 1e-3 and bad.per_parameter["W2"] < 1e-6
    assert model.W1.dtype == np.float32 and np.array_equal(model.W1.data, before)
    assert "W1" in str(bad) and "FAILED" in str(bad)
