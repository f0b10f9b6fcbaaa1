"""tinygrad_ng.tune: sampling scales, determinism, search bookkeeping, coarse-to-fine."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_ng as tg
from tinygrad_ng import tune
from tinygrad_ng.tune import SearchResults, Trial

N = 20_000  # draws for distribution checks: empirical quantile std ≈ 0.004 on a unit scale


def draws(prim, n=N, seed=0):
    rng = np.random.default_rng(seed)
    return np.array([prim.sample(rng) for _ in range(n)])


# ---------------------------------------------------------------- sampling distributions

def test_log_uniform_exponent_is_uniform():
    x = draws(tune.log_uniform(1e-4, 1))
    assert x.min() >= 1e-4 and x.max() <= 1
    r = np.log10(x)
    qs = np.linspace(0.1, 0.9, 9)
    np.testing.assert_allclose(np.quantile(r, qs), -4 + 4 * qs, atol=0.06)
    # every decade gets a quarter of the trials (a linear sampler puts 90% in [0.1, 1])
    per_decade = np.histogram(r, bins=[-4, -3, -2, -1, 0])[0] / N
    np.testing.assert_allclose(per_decade, 0.25, atol=0.015)


def test_beta_range_covers_both_decades_evenly():
    beta = draws(tune.beta_range(0.9, 0.999))
    assert beta.min() >= 0.9 and beta.max() <= 0.999
    # 1 − β = 10^r with r uniform in [−3, −1]
    r = np.log10(1 - beta)
    qs = np.linspace(0.1, 0.9, 9)
    np.testing.assert_allclose(np.quantile(r, qs), -3 + 2 * qs, atol=0.04)
    assert abs(np.mean(beta < 0.99) - 0.5) < 0.015   # 0.9…0.99 and 0.99…0.999 equally often


def test_uniform_quantiles():
    x = draws(tune.uniform(-2.0, 3.0))
    assert x.min() >= -2 and x.max() <= 3
    qs = np.linspace(0.1, 0.9, 9)
    np.testing.assert_allclose(np.quantile(x, qs), -2 + 5 * qs, atol=0.08)


def test_integer_is_inclusive_and_uniform():
    x = draws(tune.integer(2, 5), n=8000)
    assert all(type(v) is int for v in x.tolist())
    values, counts = np.unique(x, return_counts=True)
    assert values.tolist() == [2, 3, 4, 5]
    np.testing.assert_allclose(counts / 8000, 0.25, atol=0.02)


def test_choice_returns_the_options_equally_often():
    options = ["relu", "tanh", None]
    rng = np.random.default_rng(1)
    x = [tune.choice(options).sample(rng) for _ in range(6000)]
    for o in options:
        assert abs(x.count(o) / 6000 - 1 / 3) < 0.025
        assert any(v is o for v in x)


@given(lo=st.floats(-5, 5), width=st.floats(0, 10), seed=st.integers(0, 2**32 - 1))
def test_continuous_samples_stay_in_range(lo, width, seed):
    hi = lo + width
    rng = np.random.default_rng(seed)
    for prim in (tune.uniform(lo, hi), tune.log_uniform(10**lo, 10**hi),
                 tune.beta_range(1 - 10 ** (-1 - width / 2), 1 - 10 ** (-1 - width))):
        for _ in range(20):
            assert prim.low <= prim.sample(rng) <= prim.high


def test_degenerate_range_gives_its_one_value():
    rng = np.random.default_rng(0)
    assert tune.log_uniform(0.01, 0.01).sample(rng) == 0.01
    assert tune.beta_range(0.9, 0.9).sample(rng) == 0.9
    assert tune.integer(7, 7).sample(rng) == 7


def test_grid_is_evenly_spaced_on_each_scale():
    np.testing.assert_allclose(tune.log_uniform(1e-4, 1).grid(5), [1e-4, 1e-3, 1e-2, 1e-1, 1])
    np.testing.assert_allclose(tune.beta_range(0.9, 0.999).grid(3), [0.9, 0.99, 0.999])
    np.testing.assert_allclose(tune.uniform(0, 1).grid(3), [0, 0.5, 1])
    assert tune.integer(1, 3).grid(10) == [1, 2, 3]
    assert tune.integer(0, 100).grid(5) == [0, 25, 50, 75, 100]
    assert tune.choice(["a", "b"]).grid(7) == ["a", "b"]


def test_reprs_are_readable_and_round_trip():
    prims = [tune.uniform(0.5, 1), tune.log_uniform(0.0001, 0.1), tune.beta_range(0.9, 0.999),
             tune.integer(1, 4), tune.choice(["relu", "tanh"])]
    assert [repr(p) for p in prims] == [
        "uniform(0.5, 1)", "log_uniform(0.0001, 0.1)", "beta_range(0.9, 0.999)",
        "integer(1, 4)", "choice(['relu', 'tanh'])"]
    namespace = {k: getattr(tune, k) for k in tune.__all__}
    for p in prims:
        assert eval(repr(p), namespace) == p


@pytest.mark.parametrize("make, match", [
    (lambda: tune.log_uniform(0, 1), "log_uniform: low must be > 0"),
    (lambda: tune.uniform(2, 1), "uniform: need finite low <= high"),
    (lambda: tune.uniform(0, math.inf), "uniform"),
    (lambda: tune.beta_range(0.9, 1.0), "beta_range"),
    (lambda: tune.integer(3, 1), "integer"),
    (lambda: tune.integer(1.5, 3), "integer"),
    (lambda: tune.choice([]), "choice"),
    (lambda: tune.choice("abc"), "choice"),
    (lambda: tune.uniform(0, 1).grid(0), "grid"),
])
def test_bad_primitives_are_rejected(make, match):
    with pytest.raises(ValueError, match=match):
        make()


# ---------------------------------------------------------------- determinism

SPACE = {"lr": tune.log_uniform(1e-4, 1), "beta": tune.beta_range(0.9, 0.999),
         "hidden": tune.integer(8, 64), "act": tune.choice(["relu", "tanh"]), "epochs": 10}


def record(**params):
    return params["lr"]


def params_of(results):
    return sorted((t.number, tuple(t.params.items())) for t in results)


def test_sample_passes_fixed_values_through_and_is_seeded():
    a = tune.sample(SPACE, np.random.default_rng(3))
    b = tune.sample(SPACE, np.random.default_rng(3))
    assert a == b and a["epochs"] == 10
    assert a != tune.sample(SPACE, np.random.default_rng(4))


def test_random_search_is_deterministic_under_a_seed():
    r1 = tune.random_search(record, SPACE, trials=8, seed=5, progress=False)
    r2 = tune.random_search(record, SPACE, trials=8, seed=5, progress=False)
    r3 = tune.random_search(record, SPACE, trials=8, seed=6, progress=False)
    assert params_of(r1) == params_of(r2)
    assert params_of(r1) != params_of(r3)


def test_random_search_without_seed_follows_manual_seed():
    tg.manual_seed(11)
    r1 = tune.random_search(record, SPACE, trials=4, progress=False)
    tg.manual_seed(11)
    r2 = tune.random_search(record, SPACE, trials=4, progress=False)
    assert params_of(r1) == params_of(r2)


# ---------------------------------------------------------------- random_search

def quadratic(lr, beta, hidden, act, epochs):
    """A made-up dev loss, best at lr = 0.01, β = 0.99."""
    return (math.log10(lr) + 2) ** 2 + (math.log10(1 - beta) + 2) ** 2 + hidden / 1000


def test_results_are_sorted_best_first_and_match_train_fn():
    calls = []

    def train(**p):
        calls.append(p)
        return quadratic(**p)

    res = tune.random_search(train, SPACE, trials=12, seed=0, progress=False)
    assert len(res) == 12 and len(calls) == 12
    metrics = [t.metric for t in res]
    assert metrics == sorted(metrics)
    for t in res:  # each trial's metric is what train_fn returned for its params
        assert t.metric == quadratic(**t.params) and t.params == calls[t.number]
    assert res.best is res[0] and res.best.metric == min(quadratic(**p) for p in calls)
    assert sorted(t.number for t in res) == list(range(12))


def test_mode_max_sorts_highest_first():
    res = tune.random_search(record, SPACE, trials=10, seed=1, mode="max", progress=False)
    metrics = [t.metric for t in res]
    assert metrics == sorted(metrics, reverse=True)
    assert res.best.params["lr"] == max(metrics)


def test_failures_are_recorded_and_sort_last_nan_before_them():
    def train(lr, **_):
        if lr > 0.1:
            raise FloatingPointError(f"diverged at lr={lr:.3f}")
        if lr < 1e-3:
            return float("nan")
        return lr

    res = tune.random_search(train, SPACE, trials=30, seed=2, progress=False)
    assert len(res) == 30  # the search went on after each failure
    kinds = ["ok" if t.ok else ("nan" if t.error is None else "err") for t in res]
    assert "ok" in kinds and "nan" in kinds and "err" in kinds
    assert kinds == sorted(kinds, key=["ok", "nan", "err"].index)
    for t in res:
        if t.params["lr"] > 0.1:
            assert t.error == f"FloatingPointError: diverged at lr={t.params['lr']:.3f}"
            assert math.isnan(t.metric)
    table = str(res)
    assert "FloatingPointError: diverged at lr=" in table


def test_bad_return_value_is_a_recorded_failure():
    res = tune.random_search(lambda **p: None, SPACE, trials=2, seed=0, progress=False)
    assert all("train_fn must return a number" in t.error for t in res)
    with pytest.raises(RuntimeError, match="none of the 2 trials.*first error: TypeError"):
        _ = res.best
    with pytest.raises(ValueError, match="refine: no trial"):
        tune.refine(res)


def test_metric_may_be_a_scalar_tensor_or_array():
    res = tune.random_search(lambda lr, **_: tg.Tensor(lr) * 2, SPACE, trials=3, seed=0,
                             progress=False)
    for t in res:
        assert t.metric == pytest.approx(2 * t.params["lr"], rel=1e-6)
    res = tune.random_search(lambda lr, **_: np.float32(lr), SPACE, trials=3, seed=0,
                             progress=False)
    assert all(t.ok for t in res)


def test_table_lists_every_trial_best_first():
    res = tune.random_search(quadratic, SPACE, trials=5, seed=0, progress=False)
    lines = str(res).splitlines()
    assert "5 trials" in lines[0] and "lower metric is better" in lines[0]
    assert lines[1].split() == ["rank", "trial", "lr", "beta", "hidden", "act", "epochs",
                                "metric"]
    assert len(lines) == 2 + 5
    for rank, (line, trial) in enumerate(zip(lines[2:], res), 1):
        cells = line.split()
        assert cells[:2] == [str(rank), str(trial.number)]
        assert float(cells[-1]) == pytest.approx(trial.metric, rel=1e-3)
    assert "best=" in repr(res)


def test_progress_bar_can_be_disabled(capsys):
    tune.random_search(record, SPACE, trials=3, seed=0, progress=False)
    assert capsys.readouterr().err == ""
    tune.random_search(record, SPACE, trials=3, seed=0)
    assert "random search" in capsys.readouterr().err


@pytest.mark.parametrize("kwargs, error", [
    ({"trials": 0}, ValueError), ({"mode": "best"}, ValueError), ({"trials": 2.5}, ValueError)])
def test_bad_search_arguments(kwargs, error):
    with pytest.raises(error, match="random_search|random search"):
        tune.random_search(record, SPACE, **{"seed": 0, "progress": False, **kwargs})


def test_space_must_be_a_dict():
    with pytest.raises(TypeError, match="random_search: space must be a dict"):
        tune.random_search(record, [tune.uniform(0, 1)], trials=1)


# ---------------------------------------------------------------- grid_search

def test_grid_search_tries_every_combination():
    space = {"lr": tune.log_uniform(1e-3, 1e-1), "act": ["relu", "tanh"], "epochs": 5}
    res = tune.grid_search(lambda lr, act, epochs: lr, space, points=3, progress=False)
    combos = sorted((t.params["lr"], t.params["act"]) for t in res)
    expected = sorted((lr, a) for lr in [1e-3, 1e-2, 1e-1] for a in ["relu", "tanh"])
    assert len(res) == 6 and all(t.params["epochs"] == 5 for t in res)
    np.testing.assert_allclose([c[0] for c in combos], [e[0] for e in expected])
    assert [c[1] for c in combos] == [e[1] for e in expected]
    assert res.space["act"] == tune.choice(["relu", "tanh"])


def test_random_tries_more_distinct_values_than_a_grid():
    """The course's argument: 25 grid points try 5 learning rates, 25 random points 25."""
    space = {"lr": tune.log_uniform(1e-4, 1), "eps": tune.log_uniform(1e-8, 1e-6)}
    grid = tune.grid_search(record, space, points=5, progress=False)
    rand = tune.random_search(record, space, trials=25, seed=0, progress=False)
    assert len(grid) == len(rand) == 25
    assert len({t.params["lr"] for t in grid}) == 5
    assert len({t.params["lr"] for t in rand}) == 25


# ---------------------------------------------------------------- refine

def made_up_results(mode="min"):
    space = {"lr": tune.log_uniform(1e-5, 1), "beta": tune.beta_range(0.8, 0.9999),
             "hidden": tune.integer(1, 100), "act": tune.choice(["relu", "tanh", "sigmoid"]),
             "keep": tune.uniform(0.5, 1), "epochs": 3}
    rows = [  # lr, beta, hidden, act, keep, metric
        (1e-3, 0.99, 20, "relu", 0.9, 0.1),
        (1e-2, 0.9, 40, "tanh", 0.7, 0.2),
        (1e-4, 0.999, 30, "relu", 0.8, 0.3),
        (0.5, 0.85, 90, "sigmoid", 0.55, 0.9),
        (1e-5, 0.8, 2, "sigmoid", 0.6, float("nan")),
    ]
    trials = [Trial(i, dict(lr=a, beta=b, hidden=h, act=c, keep=k, epochs=3), m)
              for i, (a, b, h, c, k, m) in enumerate(rows)]
    trials.append(Trial(5, dict(lr=1.0, beta=0.8, hidden=1, act="relu", keep=1.0, epochs=3),
                        math.nan, "ValueError: boom"))
    return SearchResults(trials, space, mode)


def test_refine_spans_the_top_k_trials():
    fine = tune.refine(made_up_results(), top_k=3)
    assert fine == {"lr": tune.log_uniform(1e-4, 1e-2), "beta": tune.beta_range(0.9, 0.999),
                    "hidden": tune.integer(20, 40), "act": tune.choice(["relu", "tanh"]),
                    "keep": tune.uniform(0.7, 0.9), "epochs": 3}


def test_refine_ignores_failed_and_nan_trials():
    fine = tune.refine(made_up_results(), top_k=10)  # only the 4 real metrics count
    assert fine["lr"] == tune.log_uniform(1e-4, 0.5)
    assert fine["act"] == tune.choice(["relu", "tanh", "sigmoid"])
    assert fine["hidden"] == tune.integer(20, 90)


def test_refine_margin_is_measured_on_each_scale_and_clipped():
    fine = tune.refine(made_up_results(), top_k=2, margin=0.5)
    # lr: log10 span [−3, −2] widened by 0.5 decade on each side
    assert fine["lr"].low == pytest.approx(10**-3.5) and fine["lr"].high == pytest.approx(10**-1.5)
    # β: log10(1 − β) span [−2, −1] → [−2.5, −0.5], clipped to the old low 0.8
    assert fine["beta"].low == 0.8
    assert fine["beta"].high == pytest.approx(1 - 10**-2.5)
    assert fine["keep"].low == pytest.approx(0.6) and fine["keep"].high == 1.0  # 1.1 clipped
    assert fine["hidden"] == tune.integer(10, 50)


def test_refined_space_samples_inside_the_new_ranges():
    res = tune.random_search(quadratic, SPACE, trials=20, seed=0, progress=False)
    fine = tune.refine(res, top_k=4)
    top = list(res)[:4]
    for name in ("lr", "beta", "hidden"):
        assert fine[name].low == min(t.params[name] for t in top)
        assert fine[name].high == max(t.params[name] for t in top)
    again = tune.random_search(quadratic, fine, trials=10, seed=1, progress=False)
    for t in again:
        for name in ("lr", "beta", "hidden"):
            assert fine[name].low <= t.params[name] <= fine[name].high
        assert t.params["act"] in fine["act"].options


@given(st.lists(st.floats(1e-6, 1.0), min_size=1, max_size=8))
def test_refine_never_leaves_the_old_range(values):
    old = tune.log_uniform(1e-6, 1.0)
    new = old.refine(values, margin=2.0)
    assert old.low <= new.low <= min(values) and max(values) <= new.high <= old.high


def test_refine_argument_checks():
    res = made_up_results()
    with pytest.raises(ValueError, match="top_k"):
        tune.refine(res, top_k=0)
    with pytest.raises(ValueError, match="margin"):
        tune.refine(res, margin=-1)
    with pytest.raises(TypeError, match="refine: expected the SearchResults"):
        tune.refine({"lr": 1})
