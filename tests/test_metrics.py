"""tinygrad_ng.metrics: classification metrics, choosing runs, error analysis (Course 3)."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_ng as tg
from tinygrad_ng import metrics as M

# A small multi-class example worked out by hand:
#   true  0 0 0 1 1 2 2 2 2 1
#   pred  0 1 0 1 2 2 2 0 2 1
Y3 = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 1])
P3 = np.array([0, 1, 0, 1, 2, 2, 2, 0, 2, 1])
# confusion (rows true, cols predicted):
#   0: [2, 1, 0]   1: [0, 2, 1]   2: [1, 0, 3]
CM3 = [[2, 1, 0], [0, 2, 1], [1, 0, 3]]
# per class: precision TP/column sum, recall TP/row sum
PREC3 = [2 / 3, 2 / 3, 3 / 4]
REC3 = [2 / 3, 2 / 3, 3 / 4]


def _f1(p, r):
    return 2 * p * r / (p + r)


# ---------------------------------------------------------------- by hand

def test_binary_metrics_by_hand():
    # TP = 3, FP = 1, FN = 2, TN = 4
    y = [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]
    p = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]
    assert M.accuracy(y, p) == pytest.approx(7 / 10)
    assert M.precision(y, p) == pytest.approx(3 / 4)
    assert M.recall(y, p) == pytest.approx(3 / 5)
    assert M.f1_score(y, p) == pytest.approx(_f1(3 / 4, 3 / 5))
    np.testing.assert_array_equal(M.confusion_matrix(y, p), [[4, 1], [2, 3]])  # [[TN FP] [FN TP]]
    # the other class as positive: TP = 4, FP = 2, FN = 1
    assert M.precision(y, p, pos_label=0) == pytest.approx(4 / 6)
    assert M.recall(y, p, pos_label=0) == pytest.approx(4 / 5)


def test_multiclass_metrics_by_hand():
    np.testing.assert_array_equal(M.confusion_matrix(Y3, P3), CM3)
    np.testing.assert_allclose(M.precision(Y3, P3, average=None), PREC3)
    np.testing.assert_allclose(M.recall(Y3, P3, average=None), REC3)
    f1 = [_f1(p, r) for p, r in zip(PREC3, REC3)]
    np.testing.assert_allclose(M.f1_score(Y3, P3, average=None), f1)
    assert M.f1_score(Y3, P3, average="macro") == pytest.approx(np.mean(f1))
    support = [3, 3, 4]
    assert M.recall(Y3, P3, average="weighted") == pytest.approx(np.average(REC3,
                                                                            weights=support))
    # micro averaging pools the counts: for single-label data it is the accuracy
    assert M.accuracy(Y3, P3) == pytest.approx(7 / 10)
    for fn in (M.precision, M.recall, M.f1_score):
        assert fn(Y3, P3, average="micro") == pytest.approx(7 / 10)


def test_confusion_matrix_normalised_by_hand():
    cm = np.array(CM3, dtype=float)
    np.testing.assert_allclose(M.confusion_matrix(Y3, P3, normalize="true"),
                               cm / cm.sum(axis=1, keepdims=True))
    np.testing.assert_allclose(M.confusion_matrix(Y3, P3, normalize="pred"),
                               cm / cm.sum(axis=0, keepdims=True))
    np.testing.assert_allclose(M.confusion_matrix(Y3, P3, normalize="all"), cm / 10)
    # diagonal of the row-normalised matrix = recall; of the column-normalised = precision
    np.testing.assert_allclose(np.diag(M.confusion_matrix(Y3, P3, normalize="true")), REC3)
    np.testing.assert_allclose(np.diag(M.confusion_matrix(Y3, P3, normalize="pred")), PREC3)


def test_confusion_matrix_labels_order_and_empty_classes():
    cm = M.confusion_matrix([0, 1], [0, 0], labels=[1, 0, 5])
    np.testing.assert_array_equal(cm, [[0, 1, 0], [0, 1, 0], [0, 0, 0]])
    norm = M.confusion_matrix([0, 1], [0, 0], labels=[1, 0, 5], normalize="true")
    np.testing.assert_array_equal(norm, [[0, 1, 0], [0, 1, 0], [0, 0, 0]])  # empty row stays 0
    assert M.confusion_matrix([0, 1], [0, 0]).dtype == np.int64


def test_string_and_bool_labels_and_course_shapes():
    assert M.accuracy(["cat", "dog", "cat"], ["cat", "cat", "cat"]) == pytest.approx(2 / 3)
    assert M.precision(["cat", "dog"], ["cat", "cat"], pos_label="cat") == pytest.approx(0.5)
    assert M.recall(np.array([True, True]), np.array([True, False]), pos_label=True) == 0.5
    # the course's (1, m) row vectors, Tensors, (m, 1) columns
    y = np.array([[1, 0, 1, 1]])
    assert M.accuracy(y, tg.Tensor(np.array([[1], [0], [0], [1]]))) == pytest.approx(0.75)
    assert M.accuracy([1.0, 0.0], [1, 1]) == 0.5  # integral floats are labels


def test_zero_division():
    y, p = [0, 0, 1], [0, 0, 0]  # class 1 never predicted: precision 0/0
    assert M.precision(y, p) == 0.0
    assert M.precision(y, p, zero_division=1) == 1.0
    assert math.isnan(M.precision(y, p, zero_division=math.nan))
    assert M.recall(y, p) == 0.0  # 0/1: defined
    assert M.f1_score([0, 0], [0, 0]) == 0.0  # no positives at all


def test_f_score_course_example():
    # Course 3: A has P 95%, R 90% -> F1 92.4%; B has P 98%, R 85% -> F1 91.0%
    assert M.f_score(0.95, 0.90) == pytest.approx(2 / (1 / 0.95 + 1 / 0.90))
    assert round(M.f_score(0.95, 0.90), 3) == 0.924
    assert round(M.f_score(0.98, 0.85), 3) == 0.910
    assert M.f_score(0.0, 0.0) == 0.0
    np.testing.assert_allclose(M.f_score([0.95, 0.98], [0.90, 0.85]), [0.9243, 0.9104],
                               atol=1e-4)
    # beta weights recall beta times as much: F2 is closer to recall
    assert M.f_score(0.5, 1.0, beta=2) == pytest.approx(5 * 0.5 / (4 * 0.5 + 1))


def test_top_k_accuracy_by_hand_and_ties():
    scores = np.array([[0.1, 0.5, 0.4],    # true 2: second -> top-2 hit, top-1 miss
                       [0.7, 0.2, 0.1],    # true 0: first
                       [0.2, 0.3, 0.5]])   # true 0: third -> miss until k = 3
    y = [2, 0, 0]
    assert M.top_k_accuracy(y, scores, k=1) == pytest.approx(1 / 3)
    assert M.top_k_accuracy(y, scores, k=2) == pytest.approx(2 / 3)
    assert M.top_k_accuracy(y, scores, k=3) == 1.0
    assert M.top_k_accuracy(y, scores, k=10) == 1.0
    # ties go to the lower class index, as argmax
    tied = np.zeros((2, 3))
    assert M.top_k_accuracy([0, 2], tied, k=1) == 0.5
    assert M.top_k_accuracy([0, 2], tied, k=2) == 0.5


@given(st.integers(1, 30), st.integers(2, 6), st.integers(0, 2**31 - 1))
def test_top_1_is_the_accuracy_of_argmax(m, c, seed):
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 3, (m, c)).astype(float)  # many ties
    y = rng.integers(0, c, m)
    assert M.top_k_accuracy(y, scores, k=1) == M.accuracy(y, scores.argmax(axis=1))
    hits = [M.top_k_accuracy(y, scores, k=k) for k in range(1, c + 1)]
    assert hits == sorted(hits) and hits[-1] == 1.0


@given(st.integers(1, 40), st.integers(1, 5), st.integers(0, 2**31 - 1))
def test_metric_identities(m, c, seed):
    """Counts add up; F1 lies between min(P, R) and max(P, R); micro = accuracy."""
    rng = np.random.default_rng(seed)
    y, p = rng.integers(0, c, m), rng.integers(0, c, m)
    cm = M.confusion_matrix(y, p)
    assert cm.sum() == m and np.trace(cm) == np.sum(y == p)
    np.testing.assert_allclose(M.confusion_matrix(y, p, normalize="all").sum(), 1.0)
    prec = M.precision(y, p, average=None)
    rec = M.recall(y, p, average=None)
    f1 = M.f1_score(y, p, average=None)
    assert np.all(f1 <= np.maximum(prec, rec) + 1e-12)
    assert np.all(f1 >= np.minimum(prec, rec) - 1e-12)
    assert M.f1_score(y, p, average="micro") == pytest.approx(M.accuracy(y, p))


# ---------------------------------------------------------------- scikit-learn agreement

@pytest.mark.filterwarnings("ignore:A single label was found:UserWarning")  # scikit-learn's
@given(st.integers(1, 25), st.integers(1, 5), st.integers(0, 2**31 - 1),
       st.sampled_from(["micro", "macro", "weighted", None]), st.sampled_from([0.0, 1.0]))
def test_agrees_with_scikit_learn(m, c, seed, average, zero_division):
    skm = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(seed)
    y, p = rng.integers(0, c, m), rng.integers(0, c, m)
    labels = np.unique(np.concatenate([y, p]))
    for mine, theirs in ((M.precision, skm.precision_score), (M.recall, skm.recall_score),
                         (M.f1_score, skm.f1_score)):
        np.testing.assert_allclose(
            mine(y, p, average=average, zero_division=zero_division),
            theirs(y, p, average=average, zero_division=zero_division, labels=labels))
    for norm in (None, "true", "pred", "all"):
        np.testing.assert_allclose(M.confusion_matrix(y, p, normalize=norm),
                                   skm.confusion_matrix(y, p, labels=labels, normalize=norm))
    if set(labels) <= {0, 1}:
        assert M.f1_score(y, p, zero_division=zero_division) == pytest.approx(
            skm.f1_score(y, p, zero_division=zero_division, labels=[0, 1]))
    scores = rng.normal(size=(m, 4))
    y4 = rng.integers(0, 4, m)
    for k in (1, 2, 3):
        assert M.top_k_accuracy(y4, scores, k=k) == pytest.approx(
            skm.top_k_accuracy_score(y4, scores, k=k, labels=range(4)))


def test_classification_report_agrees_with_scikit_learn():
    skm = pytest.importorskip("sklearn.metrics")
    names = ["zero", "one", "two"]
    report = M.classification_report(Y3, P3, target_names=names)
    theirs = skm.classification_report(Y3, P3, target_names=names, output_dict=True)
    mine = report.as_dict()
    for key in [*names, "macro avg", "weighted avg"]:
        for stat, their_stat in (("precision", "precision"), ("recall", "recall"),
                                 ("f1", "f1-score"), ("support", "support")):
            assert mine[key][stat] == pytest.approx(theirs[key][their_stat]), (key, stat)
    assert mine["accuracy"] == pytest.approx(theirs["accuracy"])


def test_classification_report_table():
    report = M.classification_report(Y3, P3, target_names=["zero", "one", "two"])
    np.testing.assert_allclose(report.precision, PREC3)
    np.testing.assert_array_equal(report.support, [3, 3, 4])
    assert report.accuracy == pytest.approx(0.7)
    text = str(report)
    assert "precision" in text and "zero" in text and "macro avg" in text
    assert "0.750" in text and "0.700" in text


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize("call, match", [
    (lambda: M.accuracy([0, 1], [0, 1, 1]), r"y_true has 2 labels .* y_pred has 3"),
    (lambda: M.accuracy([], []), "no examples"),
    (lambda: M.accuracy([0, 1], np.array([[0.2, 0.8], [0.9, 0.1]])),
     r"vector of labels.*shape \(2, 2\).*argmax"),
    (lambda: M.accuracy([0, 1], [0.2, 0.9]), "non-integer floats"),
    (lambda: M.precision([0, 1, 2], [0, 1, 1]), "average='binary' needs two classes"),
    (lambda: M.precision([0, 1], [0, 1], pos_label=2), "pos_label=2 is not one of"),
    (lambda: M.recall([0, 1], [0, 1], average="mean"), "average must be one of"),
    (lambda: M.f1_score([0, 1], [0, 1], zero_division=0.5), "zero_division"),
    (lambda: M.confusion_matrix([0, 3], [0, 1], labels=[0, 1]),
     "y_true contains label 3, which is not in labels"),
    (lambda: M.confusion_matrix([0, 1], [0, 1], normalize="rows"), "normalize"),
    (lambda: M.accuracy([0, np.nan], [0, 1]), "NaN"),
    (lambda: M.top_k_accuracy([0, 1], np.zeros(2)), r"shape \(m, classes\)"),
    (lambda: M.top_k_accuracy([0, 3], np.zeros((2, 3))), "class indices 0 to 2"),
    (lambda: M.top_k_accuracy([0, 1], np.zeros((2, 3)), k=0), "k must be a positive"),
    (lambda: M.top_k_accuracy([0, 1], np.full((2, 3), np.nan)), "finite"),
    (lambda: M.f_score(95, 90), "precision must lie in"),
    (lambda: M.classification_report([0, 1], [0, 1], target_names=["a"]), "1 target_names"),
])
def test_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_mixed_label_kinds_raise():
    with pytest.raises(TypeError, match="both must be numbers or both strings"):
        M.accuracy(["a", "b"], [0, 1])


def test_inputs_are_not_modified():
    y = np.array([0, 1, 2, 1])
    p = np.array([0, 2, 2, 1])
    y.flags.writeable = False
    before = p.copy()
    M.classification_report(y, p)
    M.error_analysis(y, p, {1: ["blurry"]})
    np.testing.assert_array_equal(p, before)
    assert not y.flags.writeable


# ---------------------------------------------------------------- optimising vs satisficing

RUNS = [  # the course's cat classifiers: accuracy and running time
    {"name": "A", "accuracy": 0.90, "time_ms": 80},
    {"name": "B", "accuracy": 0.92, "time_ms": 95},
    {"name": "C", "accuracy": 0.95, "time_ms": 1500},
]


def test_select_run_course_example():
    # maximise accuracy subject to running time <= 100 ms: B (C is more accurate but slow)
    choice = M.select_run(RUNS, optimizing="accuracy", satisficing={"time_ms": 100})
    assert choice.best["name"] == "B" and choice.best_index == 1
    assert choice.ranking == [1, 0]
    assert choice.rejected == {2: ["time_ms = 1500 > 100"]}
    text = str(choice)
    assert "rejected run 2" in text and "optimising accuracy" in text
    # without the constraint C wins
    assert M.select_run(RUNS, optimizing="accuracy").best["name"] == "C"


def test_select_run_single_number_function_min_mode_and_predicates():
    runs = [{"precision": 0.95, "recall": 0.90}, {"precision": 0.98, "recall": 0.85}]

    def f1(run):
        return M.f_score(run["precision"], run["recall"])

    assert M.select_run(runs, optimizing=f1).best_index == 0  # the course's A
    assert M.select_run(runs, optimizing=f1).optimizing == "f1"
    errors = [{"error": 0.05, "recall": 0.8}, {"error": 0.03, "recall": 0.7},
              {"error": 0.04, "recall": 0.95}]
    best = M.select_run(errors, "error", {"recall": lambda r: r >= 0.9}, mode="min")
    assert best.best_index == 2
    assert M.select_run(errors, "error", mode="min").best_index == 1


def test_select_run_objects_nan_and_no_feasible_run():
    trials = [tg.tune.Trial(0, {}, math.nan), tg.tune.Trial(1, {}, 0.2)]
    choice = M.select_run(trials, "metric", mode="min")
    assert choice.best_index == 1 and 0 in choice.rejected
    none = M.select_run(RUNS, "accuracy", {"time_ms": 10})
    assert none.ranking == []
    with pytest.raises(RuntimeError, match="no run meets the satisficing constraints"):
        none.best  # noqa: B018
    with pytest.raises(KeyError, match="run 0 has no metric 'f1'"):
        M.select_run(RUNS, "f1")
    with pytest.raises(KeyError, match="no metric 'memory'"):
        M.select_run(RUNS, "accuracy", {"memory": 10})
    with pytest.raises(ValueError, match="no runs"):
        M.select_run([], "accuracy")
    with pytest.raises(ValueError, match="mode"):
        M.select_run(RUNS, "accuracy", mode="best")


# ---------------------------------------------------------------- error analysis

# 20 dev examples, 10 mistakes (indices 0-9), the course's spreadsheet columns
Y_DEV = np.array([1] * 10 + [0] * 10)
P_DEV = np.array([0] * 10 + [0] * 10)


def test_error_analysis_by_index_sample_of_mistakes():
    tags = {0: ["dog"], 1: ["great cat", "blurry"], 2: "blurry", 3: ["blurry"], 4: []}
    ea = M.error_analysis(Y_DEV, P_DEV, tags)
    assert ea.n_examples == 20 and ea.n_errors == 10 and ea.n_reviewed == 5
    assert ea.error_rate == 0.5
    assert ea.counts == {"blurry": 3, "dog": 1, "great cat": 1}
    assert list(ea.counts) == ["blurry", "dog", "great cat"]  # most common first
    assert ea.shares["blurry"] == pytest.approx(3 / 5)
    # fixing every blurry mistake would take the error from 50% to 50%·(1 − 3/5) = 20%
    assert ea.ceiling("blurry") == pytest.approx(0.2)
    assert ea.rows[1] == (1, 1, 0, ["great cat", "blurry"])
    text = str(ea)
    assert "10 mistakes in 20 examples" in text and "5 reviewed" in text and "60.0%" in text
    sheet = ea.spreadsheet()
    assert sheet.count("✓") == 5 and "% of total" in sheet
    assert "more" in ea.spreadsheet(max_rows=2)


def test_error_analysis_course_ceiling():
    # Course 3: dev error 10%, 5 of 100 reviewed mistakes are dogs -> at best 9.5%
    y = np.zeros(1000, dtype=int)
    p = y.copy()
    p[:100] = 1
    ea = M.error_analysis(y, p, {i: ["dog"] if i < 5 else ["other"] for i in range(100)})
    assert ea.error_rate == pytest.approx(0.10)
    assert ea.ceiling("dog") == pytest.approx(0.095)
    assert ea.ceiling("other") == pytest.approx(0.005)


def test_error_analysis_per_example_list_and_masks_agree():
    per_example = [["blurry"] if i % 2 == 0 else None for i in range(20)]
    a = M.error_analysis(Y_DEV, P_DEV, per_example)
    mask = np.arange(20) % 2 == 0
    b = M.error_analysis(Y_DEV, P_DEV, {"blurry": mask})
    assert a.counts == b.counts == {"blurry": 5}  # tags of correct examples are ignored
    assert a.n_reviewed == b.n_reviewed == 10
    assert a.rows == b.rows


@pytest.mark.parametrize("tags, match", [
    ({15: ["dog"]}, "example 15 is tagged .* classified correctly"),
    ({25: ["dog"]}, "example indices 0 to 19"),
    ({0: [3]}, "must be a string or a list of strings"),
    ([["dog"]] * 3, "one entry per example"),
    ({"dog": np.ones(3, dtype=bool)}, "boolean array of length 20"),
    ("dog", "must be a dict or a list"),
])
def test_error_analysis_errors(tags, match):
    with pytest.raises((ValueError, TypeError), match=match):
        M.error_analysis(Y_DEV, P_DEV, tags)
