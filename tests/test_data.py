"""DataLoader, train/dev/test splits, Standardizer and the built-in 2-D datasets."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_ng as tg
from tinygrad_ng import data

# ----------------------------------------------------------------------------- DataLoader


@given(m=st.integers(1, 60), batch_size=st.integers(1, 70), drop_last=st.booleans(),
       shuffle=st.booleans(), seed=st.one_of(st.none(), st.integers(0, 100)))
def test_every_example_exactly_once_per_epoch(m, batch_size, drop_last, shuffle, seed):
    Y = np.arange(m)
    X = np.stack([Y * 10.0, -Y], axis=1)  # rows stay paired with their labels
    loader = data.DataLoader(X, Y, batch_size=batch_size, shuffle=shuffle, seed=seed,
                             drop_last=drop_last)
    for _ in range(2):
        batches = list(loader)
        assert len(batches) == len(loader)
        sizes = [len(y) for _, y in batches]
        full, rest = divmod(m, batch_size)
        assert sizes == [batch_size] * full + ([rest] if rest and not drop_last else [])
        for xb, yb in batches:
            assert isinstance(xb, tg.Tensor) and isinstance(yb, tg.Tensor)
            np.testing.assert_array_equal(xb.data[:, 0], yb.data * 10.0)
        seen = np.concatenate([yb.data for _, yb in batches]) if batches else np.array([])
        assert len(set(seen.tolist())) == len(seen) == full * batch_size + (
            0 if drop_last else rest)
        if not shuffle:
            np.testing.assert_array_equal(seen, np.arange(len(seen)))


def test_reshuffles_each_epoch_and_seed_repeats():
    X, Y = np.arange(100.0).reshape(50, 2), np.arange(50)
    loader = data.DataLoader(X, Y, batch_size=50, seed=3)
    first, second = (next(iter(loader))[1].data for _ in range(2))
    assert not np.array_equal(first, second)
    again = data.DataLoader(X, Y, batch_size=50, seed=3)
    np.testing.assert_array_equal(next(iter(again))[1].data, first)


def test_unseeded_loader_follows_manual_seed():
    X, Y = np.zeros((30, 1)), np.arange(30)
    orders = []
    for _ in range(2):
        tg.manual_seed(11)
        orders.append(next(iter(data.DataLoader(X, Y, batch_size=30)))[1].data)
    np.testing.assert_array_equal(*orders)


def test_loader_accepts_tensors_and_keeps_dtypes():
    X = tg.randn(10, 3)
    Y = tg.Tensor(np.arange(10))
    xb, yb = next(iter(data.DataLoader(X, Y, batch_size=4, shuffle=False)))
    assert xb.dtype == np.float32 and yb.dtype == np.int64
    np.testing.assert_array_equal(xb.data, X.data[:4])
    assert len(data.DataLoader(X, Y, batch_size=4)) == 3
    assert len(data.DataLoader(X, Y, batch_size=4, drop_last=True)) == 2


def test_loader_rejects_bad_input():
    with pytest.raises(ValueError, match="X has 5 examples"):
        data.DataLoader(np.zeros((5, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="batch_size"):
        data.DataLoader(np.zeros((5, 2)), np.zeros(5), batch_size=0)
    with pytest.raises(ValueError, match="batch axis"):
        data.DataLoader(np.float32(1.0), np.zeros(5))


# ----------------------------------------------------------------------------- splits


@given(m=st.integers(3, 200), seed=st.integers(0, 1000),
       fractions=st.sampled_from([(0.98, 0.01, 0.01), (0.6, 0.2, 0.2), (0.5, 0.5, 0.0)]))
def test_split_is_a_shuffled_partition(m, seed, fractions):
    Y = np.arange(m)
    X = Y[:, None] * np.ones((1, 2))
    (Xtr, Ytr), (Xd, Yd), (Xte, Yte) = data.train_dev_test_split(X, Y, fractions, seed=seed)
    assert (len(Yd), len(Yte)) == (round(fractions[1] * m), round(fractions[2] * m))
    np.testing.assert_array_equal(np.sort(np.concatenate([Ytr, Yd, Yte])), Y)
    for Xp, Yp in ((Xtr, Ytr), (Xd, Yd), (Xte, Yte)):
        np.testing.assert_array_equal(Xp[:, 0], Yp)
    again = data.train_dev_test_split(X, Y, fractions, seed=seed)
    np.testing.assert_array_equal(again[0][1], Ytr)


def test_split_keeps_tensors_and_validates():
    X, Y = tg.randn(20, 2), tg.Tensor(np.arange(20))
    train, dev, test = data.train_dev_test_split(X, Y, (0.5, 0.25, 0.25), seed=0)
    assert all(isinstance(a, tg.Tensor) for pair in (train, dev, test) for a in pair)
    assert (len(train[0]), len(dev[0]), len(test[0])) == (10, 5, 5)
    with pytest.raises(ValueError, match="summing to 1"):
        data.train_dev_test_split(X, Y, (0.5, 0.2, 0.2))
    with pytest.raises(ValueError, match="non-negative"):
        data.train_dev_test_split(X, Y, (1.2, -0.1, -0.1))


def test_split_without_course_3_arguments_is_unchanged():
    """The same draws as before train_dev= and target= existed: one permutation, cut."""
    X, Y = np.arange(30.0).reshape(15, 2), np.arange(15)
    order = np.random.default_rng(4).permutation(15)
    (Xtr, Ytr), (Xd, Yd), (Xte, Yte) = data.train_dev_test_split(X, Y, (0.6, 0.2, 0.2), seed=4)
    np.testing.assert_array_equal(np.concatenate([Ytr, Yd, Yte]), order)
    np.testing.assert_array_equal(Xd, X[order[9:12]])


@given(m=st.integers(0, 40), held=st.floats(0, 0.9), seed=st.integers(0, 100))
def test_train_dev_is_carved_out_of_train(m, held, seed):
    X, Y = np.stack([np.arange(m), -np.arange(m)], axis=1), np.arange(m)
    plain = data.train_dev_test_split(X, Y, (0.6, 0.2, 0.2), seed=seed)
    (Xtr, Ytr), (Xtd, Ytd), dev, test = data.train_dev_test_split(
        X, Y, (0.6, 0.2, 0.2), seed=seed, train_dev=held)
    # dev and test are as without train_dev; train and train-dev share the old train set
    np.testing.assert_array_equal(dev[1], plain[1][1])
    np.testing.assert_array_equal(test[1], plain[2][1])
    np.testing.assert_array_equal(np.concatenate([Ytr, Ytd]), plain[0][1])
    assert len(Ytd) == round(held * len(plain[0][1]))
    np.testing.assert_array_equal(Xtd[:, 0], Ytd)


def test_target_distribution_gives_dev_and_test_course_example():
    """200 "web" examples to train on, 40 "mobile" ones we care about: train gets all the
    web ones and half the mobile ones, dev and test a quarter each — only mobile."""
    X_web, Y_web = np.zeros((200, 3)), np.arange(200)
    X_app, Y_app = np.ones((40, 3)), 1000 + np.arange(40)
    (Xtr, Ytr), (Xtd, Ytd), (Xd, Yd), (Xte, Yte) = data.train_dev_test_split(
        X_web, Y_web, (0.5, 0.25, 0.25), seed=0, target=(X_app, Y_app), train_dev=0.1)
    assert (len(Yd), len(Yte)) == (10, 10)
    assert (Yd >= 1000).all() and (Yte >= 1000).all()  # dev/test: the target only
    assert (Xd == 1).all() and (Xte == 1).all()
    train_all = np.concatenate([Ytr, Ytd])
    assert len(train_all) == 220 and len(Ytd) == 22
    assert set(Y_web) <= set(train_all.tolist())  # every web example is for training
    assert (train_all >= 1000).sum() == 20
    np.testing.assert_array_equal(np.sort(np.concatenate([train_all, Yd, Yte])),
                                  np.concatenate([Y_web, Y_app]))
    # rows stay paired with their labels, and the training set is shuffled
    np.testing.assert_array_equal(Xtr[:, 0], (Ytr >= 1000).astype(float))
    assert not (np.diff(train_all) > 0).all()  # shuffled, not web then mobile
    tensors = data.train_dev_test_split(tg.Tensor(X_web), Y_web, (0.5, 0.25, 0.25), seed=0,
                                        target=(X_app, Y_app))
    assert len(tensors) == 3 and isinstance(tensors[1][0], tg.Tensor)
    assert not isinstance(tensors[1][1], tg.Tensor)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"train_dev": 1.0}, ValueError, "train_dev must be a fraction"),
    ({"train_dev": -0.1}, ValueError, "train_dev must be a fraction"),
    ({"target": np.zeros((3, 2))}, TypeError, r"target must be an \(X, Y\) pair"),
    ({"target": (np.zeros((3, 5)), np.zeros(3))}, ValueError,
     r"examples of X have shape \(2,\) but those of the target's X \(5,\)"),
    ({"target": (np.zeros((3, 2)), np.zeros(4))}, ValueError, "X has 3 examples"),
])
def test_split_course_3_arguments_checked(kwargs, error, match):
    with pytest.raises(error, match=match):
        data.train_dev_test_split(np.zeros((10, 2)), np.zeros(10), (0.5, 0.25, 0.25), **kwargs)


# ----------------------------------------------------------------------------- Standardizer


def test_standardizer_uses_training_statistics_everywhere():
    rng = np.random.default_rng(0)
    train = (rng.standard_normal((200, 3)) * [1.0, 5.0, 0.1] + [3.0, -2.0, 7.0]).astype(
        np.float32)
    dev = (rng.standard_normal((50, 3)) * 2 + 1).astype(np.float32)
    s = data.Standardizer()
    Z = s.fit_transform(train)
    assert Z.dtype == np.float32
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(Z.std(axis=0), 1, rtol=1e-4)
    np.testing.assert_allclose(s.transform(dev), (dev - train.mean(0)) / train.std(0),
                               rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(s.inverse_transform(s.transform(dev)), dev, rtol=1e-5,
                               atol=1e-5)
    out = s.transform(tg.Tensor(dev))
    assert isinstance(out, tg.Tensor)


def test_standardizer_constant_feature_and_errors():
    X = np.array([[1.0, 5.0], [3.0, 5.0]])
    np.testing.assert_array_equal(data.Standardizer().fit_transform(X), [[-1, 0], [1, 0]])
    ints = data.Standardizer().fit_transform([[1, 5], [3, 5]])  # lists and ints work too
    assert ints.dtype == np.float32
    np.testing.assert_array_equal(ints, [[-1, 0], [1, 0]])
    with pytest.raises(RuntimeError, match="fit"):
        data.Standardizer().transform(X)
    with pytest.raises(ValueError, match="shape"):
        data.Standardizer().fit(X).transform(np.zeros((2, 3)))


# ----------------------------------------------------------------------------- datasets

MAKERS = [
    (data.make_flower, {}, 2),
    (data.make_moons, {"noise": 0.1}, 2),
    (data.make_circles, {"noise": 0.05, "factor": 0.5}, 2),
    (data.make_spirals, {"classes": 4, "noise": 0.2}, 4),
]


@pytest.mark.parametrize("make, kw, classes", MAKERS)
@pytest.mark.parametrize("n", [9, 400])
def test_datasets_shapes_dtypes_labels_and_seeding(make, kw, classes, n):
    X, y = make(n, seed=5, **kw)
    assert X.shape == (n, 2) and X.dtype == np.float32
    assert y.shape == (n,) and y.dtype == np.int64
    counts = np.bincount(y, minlength=classes)
    assert len(counts) == classes and counts.max() - counts.min() <= 1
    assert np.isfinite(X).all()
    X2, y2 = make(n, seed=5, **kw)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(X, make(n, seed=6, **kw)[0])
    tg.manual_seed(1)
    a = make(n, **kw)[0]
    tg.manual_seed(1)
    np.testing.assert_array_equal(a, make(n, **kw)[0])


def test_datasets_follow_default_dtype():
    tg.set_default_dtype(np.float64)
    assert data.make_moons(10, seed=0)[0].dtype == np.float64


def test_noiseless_geometry():
    X, y = data.make_circles(100, noise=0.0, factor=0.3, seed=0)
    np.testing.assert_allclose(np.hypot(*X.T), np.where(y == 0, 1.0, 0.3), rtol=1e-6)
    X, y = data.make_moons(100, noise=0.0, seed=0)
    np.testing.assert_allclose(np.hypot(X[y == 0, 0], X[y == 0, 1]), 1, rtol=1e-6)
    np.testing.assert_allclose(np.hypot(X[y == 1, 0] - 1, X[y == 1, 1] - 0.5), 1, rtol=1e-6)
    X, y = data.make_spirals(90, classes=3, noise=0.0, seed=0)
    r = np.hypot(*X.T)
    for j in range(3):  # each arm winds outwards from the centre to radius 1
        np.testing.assert_allclose(r[y == j], np.linspace(0, 1, 30), atol=1e-6)


def test_flower_is_the_course_petal_shape():
    X, y = data.make_flower(400, seed=0)
    theta = np.arctan2(X[:, 0], X[:, 1])
    r = np.hypot(*X.T)
    assert r.max() < 5
    # points lie near r = |4 sin 4θ| (noise 0.2 in θ and r)
    assert np.median(np.abs(r - np.abs(4 * np.sin(4 * theta)))) < 1.0
    assert (y[:200] == 0).all() and (y[200:] == 1).all()


@pytest.mark.parametrize("call, match", [
    (lambda: data.make_flower(1), "number of points"),
    (lambda: data.make_moons(1.5), "number of points"),
    (lambda: data.make_circles(10, factor=1.5), "factor"),
    (lambda: data.make_spirals(10, classes=1), "classes"),
])
def test_dataset_arguments_are_validated(call, match):
    with pytest.raises(ValueError, match=match):
        call()
