"""tinygrad_ng.utils: exponentially weighted averages, early stopping, bias/variance."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_ng as tg
from tinygrad_ng.utils import REMEDIES, EarlyStopping, diagnose, ewa

# ---------------------------------------------------------------- ewa


def test_ewa_by_hand_course_recursion():
    # V0 = 0, V1 = 0.9·V0 + 0.1·θ1, V2 = 0.9·V1 + 0.1·θ2, V3 = 0.9·V2 + 0.1·θ3
    theta = [10.0, 20.0, 30.0]
    v1 = 0.1 * 10
    v2 = 0.9 * v1 + 0.1 * 20
    v3 = 0.9 * v2 + 0.1 * 30
    np.testing.assert_allclose(ewa(theta, beta=0.9, bias_correction=False), [v1, v2, v3])
    np.testing.assert_allclose(ewa(theta, beta=0.9),
                               [v1 / (1 - 0.9), v2 / (1 - 0.9**2), v3 / (1 - 0.9**3)])
    # the correction undoes the start at 0: V1/(1 − β) is exactly θ1
    assert ewa(theta)[0] == pytest.approx(10.0)


@given(theta=hnp.arrays(np.float64, st.integers(1, 30), elements=st.floats(-100, 100)),
       beta=st.floats(0, 0.999))
def test_ewa_matches_the_unrolled_sum(theta, beta):
    """v_t = (1 − β) Σ_{i≤t} β^(t−i) θ_i, the recursion written out."""
    t = np.arange(1, len(theta) + 1)
    v = np.array([(1 - beta) * np.sum(beta ** (k - t[:k]) * theta[:k]) for k in t])
    np.testing.assert_allclose(ewa(theta, beta, bias_correction=False), v, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(ewa(theta, beta), v / (1 - beta**t), rtol=1e-9, atol=1e-7)


def test_ewa_of_a_constant_is_the_constant_only_with_correction():
    c, beta = 7.0, 0.98
    t = np.arange(1, 101)
    np.testing.assert_allclose(ewa(np.full(100, c), beta), c)
    np.testing.assert_allclose(ewa(np.full(100, c), beta, bias_correction=False),
                               c * (1 - beta**t))


def test_ewa_smooths_noise():
    rng = np.random.default_rng(0)
    noisy = 1.0 + rng.normal(0, 1, 2000)
    smooth = ewa(noisy, beta=0.98)
    # averaging over ~1/(1 − β) = 50 values cuts the std by about √(2·50 − 1) ≈ 10
    assert np.std(smooth[200:]) < np.std(noisy) / 5
    assert abs(np.mean(smooth[200:]) - 1.0) < 0.1


def test_ewa_edge_cases():
    assert ewa([]).shape == (0,)
    np.testing.assert_array_equal(ewa([3.0, -1.0, 2.0], beta=0.0), [3.0, -1.0, 2.0])
    out = ewa([tg.Tensor(1.0), tg.Tensor(3.0)], beta=0.5, bias_correction=False)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, [0.5, 0.25 + 1.5])
    assert np.all(np.isfinite(ewa(np.full(100_000, 1e300), beta=0.9999)))


@pytest.mark.parametrize("kwargs, match", [
    ({"values": [1.0], "beta": 1.0}, "ewa: beta"),
    ({"values": [1.0], "beta": -0.1}, "ewa: beta"),
    ({"values": [[1.0, 2.0]]}, r"ewa: expected a 1-D series.*\(1, 2\)"),
])
def test_ewa_rejects_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ewa(**kwargs)


# ---------------------------------------------------------------- EarlyStopping

class FakeModel:
    """state_dict returns the LIVE arrays (as nn.Module may), training updates them in place."""

    def __init__(self):
        self.w = np.zeros(3)
        self.b = np.zeros(1)
        self.loads = 0

    def state_dict(self):
        return {"w": self.w, "b": self.b}

    def load_state_dict(self, sd):
        self.loads += 1
        self.w[...] = sd["w"]
        self.b[...] = sd["b"]

    def train_epoch(self, epoch):
        self.w += 1.0  # in place: a snapshot that is not a copy would change with it
        self.b[0] = epoch


def run(losses, stopper, model):
    """Train until the stopper says stop; returns the epoch it stopped at (or None)."""
    for epoch, loss in enumerate(losses):
        model.train_epoch(epoch)
        if stopper.step(loss, model):
            return epoch
    return None


def test_early_stopping_restores_the_best_weights():
    model, stopper = FakeModel(), EarlyStopping(patience=3)
    stopped_at = run([5.0, 4.0, 3.0, 3.5, 3.2, 3.6, 1.0], stopper, model)
    assert stopped_at == 5 and stopper.stopped  # 3 epochs without beating 3.0
    assert stopper.best == 3.0 and stopper.best_epoch == 2
    assert stopper.counter == stopper.epochs_without_improvement == 3
    assert stopper.epochs == 6
    # weights as they were after epoch 2 (three in-place updates), not after epoch 5
    np.testing.assert_array_equal(model.w, [3.0, 3.0, 3.0])
    np.testing.assert_array_equal(model.b, [2.0])
    # restoring hands over a copy: training on cannot corrupt the snapshot
    model.train_epoch(9)
    stopper.restore(model)
    np.testing.assert_array_equal(model.w, [3.0, 3.0, 3.0])


def test_early_stopping_counter_resets_on_improvement():
    stopper = EarlyStopping(patience=2)
    flags = [stopper.step(x) for x in [3.0, 3.1, 2.0, 2.5, 1.0, 1.5, 1.2]]
    assert flags == [False, False, False, False, False, False, True]
    assert stopper.best_epoch == 4 and stopper.best == 1.0


def test_min_delta_ignores_tiny_improvements():
    stopper = EarlyStopping(patience=2, min_delta=0.1)
    flags = [stopper.step(x) for x in [1.0, 0.95, 0.92]]
    assert flags == [False, False, True]
    assert stopper.best == 1.0 and stopper.best_epoch == 0
    stopper = EarlyStopping(patience=2, min_delta=0.1)
    assert [stopper.step(x) for x in [1.0, 0.85, 0.7]] == [False, False, False]
    assert stopper.best_epoch == 2


def test_mode_max_for_accuracy():
    model, stopper = FakeModel(), EarlyStopping(patience=2, mode="max")
    assert run([0.6, 0.8, 0.7, 0.75, 0.9], stopper, model) == 3
    assert stopper.best == 0.8 and stopper.best_epoch == 1
    np.testing.assert_array_equal(model.w, [2.0, 2.0, 2.0])


def test_nan_never_counts_as_an_improvement():
    stopper = EarlyStopping(patience=2)
    assert [stopper.step(x) for x in [1.0, math.nan, math.nan]] == [False, False, True]
    assert stopper.best == 1.0
    stopper = EarlyStopping(patience=1)
    assert stopper.step(math.nan, FakeModel())  # nothing to restore: stops without error


def test_restore_after_running_out_of_epochs():
    model, stopper = FakeModel(), EarlyStopping(patience=10)
    assert run([3.0, 1.0, 2.0, 2.5], stopper, model) is None and not stopper.stopped
    stopper.restore(model)
    np.testing.assert_array_equal(model.w, [2.0, 2.0, 2.0])


def test_restore_best_false_leaves_the_model_alone():
    model, stopper = FakeModel(), EarlyStopping(patience=1, restore_best=False)
    assert run([1.0, 2.0], stopper, model) == 1
    assert model.loads == 0
    np.testing.assert_array_equal(model.w, [2.0, 2.0, 2.0])
    with pytest.raises(RuntimeError, match="no snapshot"):
        stopper.restore(model)


def test_metric_may_be_a_tensor():
    stopper = EarlyStopping(patience=1)
    stopper.step(tg.Tensor(2.0))
    assert stopper.step(tg.Tensor(2.5)) and stopper.best == 2.0


def test_with_a_real_linear_layer():
    nn = pytest.importorskip("tinygrad_ng.nn")
    if not hasattr(nn, "Linear"):
        pytest.skip("tinygrad_ng.nn.Linear not available yet")
    layer = nn.Linear(3, 2)
    stopper = EarlyStopping(patience=1)
    stopper.step(1.0, layer)
    best = {k: np.array(v.numpy() if isinstance(v, tg.Tensor) else v, copy=True)
            for k, v in layer.state_dict().items()}
    for p in layer.parameters():  # an optimiser step, in place where allowed
        if p.data.flags.writeable:
            p.data += 1.0
        else:
            p.data = p.data + 1.0
    assert stopper.step(2.0, layer)
    for k, v in layer.state_dict().items():
        np.testing.assert_array_equal(v.numpy() if isinstance(v, tg.Tensor) else v, best[k])


@pytest.mark.parametrize("kwargs, match", [
    ({"patience": 0}, "patience"), ({"patience": 1.5}, "patience"),
    ({"min_delta": -0.1}, "min_delta"), ({"mode": "lowest"}, "mode"),
])
def test_early_stopping_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=f"EarlyStopping: {match}"):
        EarlyStopping(**kwargs)


# ---------------------------------------------------------------- diagnose

@pytest.mark.parametrize("train, dev, bayes, verdict", [
    (0.01, 0.11, 0.0, "high variance"),
    (0.15, 0.16, 0.0, "high bias"),
    (0.15, 0.30, 0.0, "high bias and high variance"),
    (0.005, 0.01, 0.0, "low bias and low variance"),
    (0.15, 0.16, 0.15, "low bias and low variance"),  # Bayes error 15%: blurry images
])
def test_diagnose_course_examples(train, dev, bayes, verdict):
    d = diagnose(train, dev, bayes_error=bayes)
    assert d.verdict == verdict
    assert d.bias == pytest.approx(train - bayes)
    assert d.variance == pytest.approx(dev - train)
    assert d.high_bias == ("high bias" in verdict)
    assert d.high_variance == ("high variance" in verdict)
    text = str(d)
    assert verdict in text
    assert f"{train:.1%}" in text and f"{dev:.1%}" in text and f"{d.variance:.1%}" in text


def test_diagnose_advice_follows_the_basic_recipe():
    assert "bigger network" in str(diagnose(0.15, 0.16))
    assert "more data" not in str(diagnose(0.15, 0.16))
    assert "regularization" in str(diagnose(0.01, 0.11))
    assert "bigger network" not in str(diagnose(0.01, 0.11))


def test_diagnose_tolerance():
    assert diagnose(0.08, 0.10).verdict == "high bias"  # variance exactly 2%: not more
    assert diagnose(0.07, 0.08, bayes_error=0.05).verdict == "low bias and low variance"
    assert diagnose(0.08, 0.11).high_variance
    assert diagnose(0.01, 0.11, tolerance=0.2).verdict == "low bias and low variance"
    assert diagnose(0.005, 0.01, tolerance=0.001).verdict == "high bias and high variance"


@pytest.mark.parametrize("args, match", [
    ((11, 0.2), "train_error must be a fraction"),
    ((0.1, -0.2), "dev_error"),
    ((0.1, 0.2, 1.5), "bayes_error"),
    ((0.1, math.nan), "dev_error"),
])
def test_diagnose_rejects_percent_and_nonsense(args, match):
    with pytest.raises(ValueError, match=f"diagnose: {match}"):
        diagnose(*args)


# ---------------------------------------------------------------- diagnose: Course 3


@pytest.mark.parametrize("human, train, train_dev, dev, largest, verdict", [
    # the course's figures: data mismatch, avoidable bias, variance, and two high gaps
    (0.01, 0.015, 0.018, 0.08, "data mismatch", "high data mismatch"),
    (0.01, 0.08, 0.10, 0.105, "avoidable bias", "high bias"),
    (0.00, 0.01, 0.09, 0.10, "variance", "high variance"),
    (0.04, 0.07, 0.11, 0.12, "variance", "high bias and high variance"),
    (0.00, 0.10, 0.11, 0.20, "avoidable bias", "high bias and high data mismatch"),
    (0.04, 0.05, 0.055, 0.06, "avoidable bias",
     "low bias, low variance and low data mismatch"),
])
def test_diagnose_with_human_level_and_train_dev(human, train, train_dev, dev, largest, verdict):
    d = diagnose(train, dev, human_error=human, train_dev_error=train_dev)
    assert d.bias == pytest.approx(train - human)
    assert d.variance == pytest.approx(train_dev - train)
    assert d.data_mismatch == pytest.approx(dev - train_dev)
    assert d.largest_gap == largest
    assert d.remedies == REMEDIES[largest]
    assert d.verdict == verdict
    assert d.human_level and d.bayes_error == human
    assert d.high_data_mismatch == ("data mismatch" in verdict and "low data" not in verdict)
    text = str(d)
    assert "human-level" in text and "train-dev error" in text
    assert f"largest gap: {largest}" in text and verdict in text
    for gap in d.gaps:
        assert (f"to reduce {gap}:" in text) == d.is_high(gap)


def test_diagnose_course_data_mismatch_example_reads_like_the_lecture():
    d = diagnose(0.015, 0.08, human_error=0.01, train_dev_error=0.018)
    assert d.gaps == pytest.approx({"avoidable bias": 0.005, "variance": 0.003,
                                    "data mismatch": 0.062})
    text = str(d)
    assert "data mismatch = 8.0% - 1.8% = 6.2% -> high" in text
    assert "artificial data synthesis" in text and "bigger network" not in text


def test_diagnose_test_error_measures_overfitting_to_dev():
    d = diagnose(0.02, 0.05, train_dev_error=0.03, test_error=0.10)
    assert d.dev_overfitting == pytest.approx(0.05)
    assert d.largest_gap == "overfitting to dev" and d.remedies == ("a bigger dev set",)
    assert "high overfitting to dev" in d.verdict and "test error" in str(d)
    # without a train-dev set, test still works on top of the basic recipe
    d2 = diagnose(0.01, 0.02, test_error=0.021)
    assert d2.data_mismatch is None and set(d2.gaps) == {"avoidable bias", "variance",
                                                        "overfitting to dev"}


def test_diagnose_keeps_the_basic_recipe_without_train_dev():
    d = diagnose(0.01, 0.11)
    assert d.data_mismatch is None and d.train_dev_error is None and not d.human_level
    assert set(d.gaps) == {"avoidable bias", "variance"}
    assert d.largest_gap == "variance" and "more data" in d.remedies
    assert "largest gap: variance" in str(d) and "Bayes error" in str(d)


def test_diagnose_train_error_below_human_level():
    d = diagnose(0.005, 0.01, human_error=0.01)
    assert d.bias == pytest.approx(-0.005) and not d.high_bias
    assert "below human-level" in str(d)


@pytest.mark.parametrize("kwargs, match", [
    ({"human_error": 0.01, "bayes_error": 0.02}, "give bayes_error or human_error"),
    ({"train_dev_error": 1.5}, "train_dev_error must be a fraction"),
    ({"test_error": -0.1}, "test_error"),
    ({"human_error": math.nan}, "human_error"),
])
def test_diagnose_course_3_arguments_checked(kwargs, match):
    with pytest.raises(ValueError, match=f"diagnose: {match}"):
        diagnose(0.1, 0.2, **kwargs)
