"""``tg.manual_seed(seed, legacy=True)``: the course's seeded draws, to the digit.

Each reference below is the course's own code (courses 1–2 programming assignments),
written out in its layout (examples as columns); the literals are the "Expected output"
the course publishes. The library is batch-first, so its arrays are the course's
transposed.
"""

import sys
import threading

import numpy as np
import pytest
import tinygrad_ng.nn as nn

import tinygrad_ng as tg
import tinygrad_ng.functional as F
from tinygrad_ng import optim
from tinygrad_ng.data import DataLoader, make_circles, make_flower, make_moons, make_spirals


@pytest.fixture
def float64():
    tg.set_default_dtype(np.float64)  # the course computes in float64: compare bit for bit


# ------------------------------------------------------------------ the course's code


def initialize_parameters(layer_dims, seed, scale):
    """The course's initialize_parameters / _deep / _he: seed once, then layer by layer
    np.random.randn(n[l], n[l-1]) * scale(n[l-1]), zero biases."""
    np.random.seed(seed)
    return [np.random.randn(layer_dims[l], layer_dims[l - 1]) * scale(layer_dims[l - 1])
            for l in range(1, len(layer_dims))]


def initialize_parameters_deep_app(layer_dims, seed):
    """dnn_app_utils' initialize_parameters_deep: randn(...) / np.sqrt(n[l-1])."""
    np.random.seed(seed)
    return [np.random.randn(layer_dims[l], layer_dims[l - 1]) / np.sqrt(layer_dims[l - 1])
            for l in range(1, len(layer_dims))]


def random_mini_batches(X, Y, mini_batch_size, seed):
    """The course's random_mini_batches (X of shape (n_x, m), Y of shape (1, m))."""
    np.random.seed(seed)
    m = X.shape[1]
    permutation = list(np.random.permutation(m))
    shuffled_X, shuffled_Y = X[:, permutation], Y[:, permutation].reshape((1, m))
    return [(shuffled_X[:, k:k + mini_batch_size], shuffled_Y[:, k:k + mini_batch_size])
            for k in range(0, m, mini_batch_size)]


def load_planar_dataset():
    """The course's planar data: np.random.seed(1), per class j θ and r with randn noise."""
    np.random.seed(1)
    m, a = 400, 4
    N = int(m / 2)
    X = np.zeros((m, 2))
    Y = np.zeros((m, 1), dtype="uint8")
    for j in range(2):
        ix = range(N * j, N * (j + 1))
        t = np.linspace(j * 3.12, (j + 1) * 3.12, N) + np.random.randn(N) * 0.2
        r = a * np.sin(4 * t) + np.random.randn(N) * 0.2
        X[ix] = np.c_[r * np.sin(t), r * np.cos(t)]
        Y[ix] = j
    return X.T, Y.T


def linear_net(layer_dims, init):
    """Linear layers in order (each initialises its weight as the layer is built)."""
    return [nn.Linear(layer_dims[l - 1], layer_dims[l], init=init)
            for l in range(1, len(layer_dims))]


def gradient_descent_costs(model, X, y, lr, iterations):
    """The course's full-batch training loop: the cost at iterations 0 … ``iterations``."""
    Xt, Yt = tg.Tensor(X), tg.Tensor(y.reshape(-1, 1).astype(np.float64))
    opt = optim.SGD(model.parameters(), lr=lr)
    costs = []
    for _ in range(iterations + 1):
        opt.zero_grad()
        cost = F.binary_cross_entropy_with_logits(model(Xt), Yt)
        cost.backward()
        opt.step()
        costs.append(cost.item())
    return costs


def assert_weights(layers, expected):
    for layer, W in zip(layers, expected, strict=True):
        np.testing.assert_array_equal(layer.weight.data, W)
        np.testing.assert_array_equal(layer.bias.data, 0)


# ------------------------------------------------------------------ initialisers


def test_initialize_parameters_3_2_1_seed_1(float64):
    """The issue's example: W1, W2 of the course's initialize_parameters(3, 2, 1)."""
    tg.manual_seed(1, legacy=True)
    W1 = nn.init.normal_(tg.zeros(2, 3), std=0.01)
    W2 = nn.init.normal_(tg.zeros(1, 2), std=0.01)
    np.testing.assert_allclose(W1.data, [[0.01624345, -0.00611756, -0.00528172],
                                         [-0.01072969, 0.00865408, -0.02301539]], atol=5e-9)
    np.testing.assert_allclose(W2.data, [[0.01744812, -0.00761207]], atol=5e-9)
    W1_ref, W2_ref = initialize_parameters([3, 2, 1], 1, lambda n: 0.01)
    np.testing.assert_array_equal(W1.data, W1_ref)
    np.testing.assert_array_equal(W2.data, W2_ref)


def test_linear_layers_draw_the_courses_weights_in_order(float64):
    """Building the layers in order = the course's loop over l; biases draw nothing."""
    tg.manual_seed(2, legacy=True)
    layers = linear_net([2, 4, 1], "normal")
    assert_weights(layers, initialize_parameters([2, 4, 1], 2, lambda n: 0.01))
    # the planar lesson's published initialize_parameters(2, 4, 1) (seed 2)
    np.testing.assert_allclose(layers[0].weight.data[:, 0],
                               [-0.00416758, -0.02136196, -0.01793436, 0.00502881], atol=5e-9)
    np.testing.assert_allclose(layers[1].weight.data,
                               [[-0.01057952, -0.00909008, 0.00551454, 0.02292208]], atol=5e-9)


def test_initialize_parameters_deep_seed_3(float64):
    """Course 1 week 4: initialize_parameters_deep([5, 4, 3]) with seed 3 (× 0.01)."""
    tg.manual_seed(3, legacy=True)
    layers = linear_net([5, 4, 3], "normal")
    assert_weights(layers, initialize_parameters([5, 4, 3], 3, lambda n: 0.01))
    np.testing.assert_allclose(
        layers[0].weight.data[0], [0.01788628, 0.0043651, 0.00096497, -0.01863493,
                                   -0.00277388], atol=5e-9)
    np.testing.assert_allclose(layers[1].weight.data,
                               [[-0.01185047, -0.0020565, 0.01486148, 0.00236716],
                                [-0.01023785, -0.00712993, 0.00625245, -0.00160513],
                                [-0.00768836, -0.00230031, 0.00745056, 0.01976111]],
                               atol=5e-9)


def test_initialize_parameters_deep_app_divides_like_the_course(float64):
    """dnn_app_utils' randn / np.sqrt(n[l-1]) (the course's "Xavier"), rounded as it
    rounds: lecun_normal_ in legacy mode."""
    dims = [12288, 20, 7, 5, 1]
    tg.manual_seed(1, legacy=True)
    layers = linear_net(dims, "lecun_normal")
    assert_weights(layers, initialize_parameters_deep_app(dims, 1))


def test_initialize_parameters_he_seed_3(float64):
    """Course 2 week 1: initialize_parameters_he([2, 4, 1]) with seed 3."""
    tg.manual_seed(3, legacy=True)
    layers = linear_net([2, 4, 1], "he_normal")
    assert_weights(layers, initialize_parameters([2, 4, 1], 3, lambda n: np.sqrt(2.0 / n)))
    np.testing.assert_allclose(layers[0].weight.data,
                               [[1.78862847, 0.43650985], [0.09649747, -1.8634927],
                                [-0.2773882, -0.35475898], [-0.08274148, -0.62700068]],
                               atol=5e-9)
    np.testing.assert_allclose(layers[1].weight.data,
                               [[-0.03098412, -0.33744411, -0.92904268, 0.62552248]],
                               atol=5e-9)


def test_randn_and_rand_are_the_courses(float64):
    tg.manual_seed(5, legacy=True)
    a, b = tg.randn(3, 4), tg.rand(2, 5)
    np.random.seed(5)
    np.testing.assert_array_equal(a.data, np.random.randn(3, 4))
    np.testing.assert_array_equal(b.data, np.random.rand(2, 5))


# ------------------------------------------------------------------ mini-batches


def course_test_case():
    np.random.seed(1)
    X = np.random.randn(12288, 148)
    Y = np.random.randn(1, 148) < 0.5
    return X, Y


@pytest.mark.parametrize("how", ["manual_seed", "loader seed"])
def test_first_mini_batch_is_the_courses(how):
    """The course's sanity check: the first mini-batch starts [0.90085595, −0.7612069,
    0.2344157]; every batch is the course's, transposed."""
    X, Y = course_test_case()
    if how == "manual_seed":
        tg.manual_seed(0, legacy=True)
        loader = DataLoader(X.T, Y.T, batch_size=64)
    else:
        tg.manual_seed(123, legacy=True)
        loader = DataLoader(X.T, Y.T, batch_size=64, seed=0)
    batches = list(loader)
    np.testing.assert_allclose(batches[0][0].data[0:3, 0], [0.90085595, -0.7612069,
                                                             0.2344157], atol=5e-9)
    expected = random_mini_batches(X, Y, 64, 0)
    assert [len(xb) for xb, _ in batches] == [64, 64, 20]
    for (xb, yb), (Xc, Yc) in zip(batches, expected, strict=True):
        np.testing.assert_array_equal(xb.data, Xc.T)
        np.testing.assert_array_equal(yb.data, Yc.T)


def test_seeded_loader_epochs_follow_the_courses_training_loop():
    """The course's model: seed = 10, then before each epoch seed += 1 and
    random_mini_batches(X, Y, 64, seed). One DataLoader(seed=11) gives the same epochs."""
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((2, 150)), rng.random((1, 150)) < 0.5
    tg.manual_seed(0, legacy=True)
    loader = DataLoader(X.T, Y.T, batch_size=64, seed=11)
    for seed in (11, 12, 13):
        for (xb, _), (Xc, _) in zip(loader, random_mini_batches(X, Y, 64, seed), strict=True):
            np.testing.assert_array_equal(xb.data, Xc.T)


def test_unseeded_loader_continues_numpys_stream():
    X = np.arange(40.0).reshape(20, 2)
    tg.manual_seed(4, legacy=True)
    loader = DataLoader(X, X[:, :1], batch_size=20)
    epochs = [next(iter(loader))[0].data for _ in range(2)]
    np.random.seed(4)
    for epoch in epochs:
        np.testing.assert_array_equal(epoch, X[np.random.permutation(20)])


# ------------------------------------------------------------------ dropout


def forward_with_dropout_test_case():
    """The course's forward_propagation_with_dropout_test_case (seed 1)."""
    np.random.seed(1)
    X = np.random.randn(3, 5)
    W1, b1 = np.random.randn(2, 3), np.random.randn(2, 1)
    W2, b2 = np.random.randn(3, 2), np.random.randn(3, 1)
    W3, b3 = np.random.randn(1, 3), np.random.randn(1, 1)
    return X, [(W1, b1), (W2, b2), (W3, b3)]


def test_dropout_masks_and_output_are_the_courses(float64):
    """forward_propagation_with_dropout(X, parameters, keep_prob=0.7) seeds 1, then draws
    D1 = np.random.rand(*A1.shape) < keep_prob, then D2: the course's A3 is
    [[0.36974721 0.00305176 0.04565099 0.49683389 0.36974721]]."""
    X, params = forward_with_dropout_test_case()
    keep_prob = 0.7
    masks = []

    class Recorded(nn.Dropout):
        def forward(self, x):
            out = super().forward(x)
            masks.append(out.data != 0)
            return out

    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), Recorded(1 - keep_prob),
                          nn.Linear(2, 3), nn.ReLU(), Recorded(1 - keep_prob), nn.Linear(3, 1))
    for layer, (W, b) in zip(model[0::3], params, strict=True):
        layer.weight.data[...], layer.bias.data[...] = W, b[:, 0]

    tg.manual_seed(1, legacy=True)
    A3 = model(tg.Tensor(X.T)).sigmoid()  # batch-first: (5, 1)
    np.testing.assert_allclose(A3.data.T, [[0.36974721, 0.00305176, 0.04565099, 0.49683389,
                                            0.36974721]], atol=5e-9)

    np.random.seed(1)  # the course's masks, in its layout (units × examples)
    D1 = np.random.rand(2, 5) < keep_prob
    D2 = np.random.rand(3, 5) < keep_prob
    A1 = np.maximum(0, params[0][0] @ X + params[0][1])
    A2 = np.maximum(0, params[1][0] @ (A1 * D1 / keep_prob) + params[1][1])
    np.testing.assert_array_equal(masks[0], D1.T & (A1.T != 0))  # relu zeros stay zero
    np.testing.assert_array_equal(masks[1], D2.T & (A2.T != 0))


def test_dropout_mask_is_the_courses_transposed():
    x = tg.ones(7, 4)
    tg.manual_seed(9, legacy=True)
    mask = F.dropout(x, 0.3).data != 0
    np.random.seed(9)
    np.testing.assert_array_equal(mask, (np.random.rand(4, 7) < 0.7).T)


def test_gradcheck_replays_legacy_dropout_masks():
    """Gradient checks restore NumPy's global state before each evaluation."""
    x = tg.Tensor(np.random.default_rng(0).standard_normal((4, 3)), requires_grad=True)
    tg.manual_seed(0, legacy=True)
    assert tg.gradcheck(lambda u: F.dropout(u, 0.5) * u, [x])
    assert tg.random.is_legacy()


# ------------------------------------------------------------------ data sets


def test_make_flower_is_load_planar_dataset(float64):
    tg.manual_seed(0, legacy=True)
    X, y = make_flower(400, seed=1)
    X_ref, Y_ref = load_planar_dataset()
    np.testing.assert_array_equal(X, X_ref.T)
    np.testing.assert_array_equal(y, Y_ref[0])


def test_make_flower_float32_is_the_course_rounded():
    tg.manual_seed(0, legacy=True)
    X, _ = make_flower(400, seed=1)
    assert X.dtype == np.float32
    np.testing.assert_array_equal(X, load_planar_dataset()[0].T.astype(np.float32))


def test_planar_lesson_reproduces_the_courses_costs(float64):
    """The course's nn_model on its planar data: initialize_parameters(2, 4, 1) with seed 2,
    gradient descent with α = 1.2; it prints cost 0.693048 at iteration 0 and 0.288083 at
    iteration 1000."""
    tg.manual_seed(0, legacy=True)
    X, y = make_flower(400, seed=1)
    tg.manual_seed(2, legacy=True)
    model = nn.Sequential(nn.Linear(2, 4, init="normal"), nn.Tanh(),
                          nn.Linear(4, 1, init="normal"))
    costs = gradient_descent_costs(model, X, y, lr=1.2, iterations=1000)
    assert round(costs[0], 6) == 0.693048
    assert round(costs[1000], 6) == 0.288083


def test_moons_and_circles_are_the_courses_scikit_learn_calls():
    """The optimisation lesson's load_dataset (seed 3, make_moons(300, noise=.2)) and the
    initialisation lesson's (seeds 1 and 2, make_circles(300 / 100, noise=.05))."""
    datasets = pytest.importorskip("sklearn.datasets")
    tg.manual_seed(0, legacy=True)
    got = [make_moons(300, noise=0.2, seed=3),
           make_circles(300, noise=0.05, factor=0.8, seed=1),
           make_circles(100, noise=0.05, factor=0.8, seed=2)]
    np.random.seed(3)
    expected = [datasets.make_moons(n_samples=300, noise=.2)]
    np.random.seed(1)
    expected.append(datasets.make_circles(n_samples=300, noise=.05))
    np.random.seed(2)
    expected.append(datasets.make_circles(n_samples=100, noise=.05))
    for (X, y), (X_ref, y_ref) in zip(got, expected, strict=True):
        assert X.dtype == np.float32 and y.dtype == np.int64
        np.testing.assert_array_equal(X, X_ref.astype(np.float32))
        np.testing.assert_array_equal(y, y_ref)


def test_unseeded_data_sets_continue_numpys_stream(float64):
    tg.manual_seed(6, legacy=True)
    first, second = make_spirals(30)[0], make_spirals(30)[0]
    assert not np.array_equal(first, second)
    np.random.seed(6)  # the same stream again gives the same two data sets
    np.testing.assert_array_equal(make_spirals(30)[0], first)
    np.testing.assert_array_equal(make_spirals(30)[0], second)


def test_moons_without_scikit_learn_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)  # import sklearn now fails
    tg.manual_seed(0, legacy=True)
    with pytest.raises(ImportError, match=r"make_moons: .*scikit-learn .*tinygrad_ng\[datasets"):
        make_moons(10, seed=0)
    tg.manual_seed(0)
    assert make_moons(10, seed=0)[0].shape == (10, 2)  # the default mode needs no sklearn


# ------------------------------------------------------------------ the two modes


def test_legacy_seed_calls_np_random_seed_and_shares_the_users_stream(float64):
    """Like the course: seeding is np.random.seed(seed), and the user's own np.random
    draws come from the same stream as the library's."""
    tg.manual_seed(1, legacy=True)
    assert tg.random.is_legacy()
    mine = np.random.randn(3)  # the user's draw comes first ...
    lib = tg.randn(2)          # ... so the library gets the next values
    np.random.seed(1)
    np.testing.assert_array_equal(mine, np.random.randn(3))
    np.testing.assert_array_equal(lib.data, np.random.randn(2))
    np.random.seed(8)  # the user's reseed reseeds the library's draws too
    lib = tg.randn(2)
    np.random.seed(8)
    np.testing.assert_array_equal(lib.data, np.random.randn(2))


def test_default_mode_is_unchanged_and_leaves_numpys_generator_alone(float64):
    """manual_seed(seed) without legacy: every draw from default_rng(seed), in order, and
    NumPy's global state untouched."""
    tg.manual_seed(1, legacy=True)
    tg.manual_seed(3)
    assert not tg.random.is_legacy()
    before = np.random.get_state(legacy=False)["state"]
    w = nn.init.normal_(tg.zeros(2, 3), std=0.5)
    r = tg.rand(4)
    mask = F.dropout(tg.ones(3, 2), 0.5).data != 0
    order = next(iter(DataLoader(np.arange(5.0), np.arange(5.0), batch_size=5)))[0].data
    X, _ = make_flower(10)
    rng = np.random.default_rng(3)
    np.testing.assert_array_equal(w.data, 0.5 * rng.standard_normal((2, 3)))
    np.testing.assert_array_equal(r.data, rng.random(4))
    np.testing.assert_array_equal(mask, rng.random((3, 2)) < 0.5)
    np.testing.assert_array_equal(order, rng.permutation(5))
    assert X.shape == (10, 2)
    after = np.random.get_state(legacy=False)["state"]
    assert after["pos"] == before["pos"]
    np.testing.assert_array_equal(after["key"], before["key"])
    np.testing.assert_array_equal(make_flower(10, seed=1)[0], make_flower(10, seed=1)[0])


def test_state_round_trip_in_both_modes():
    for legacy in (False, True):
        tg.manual_seed(5, legacy=legacy)
        state = tg.random.get_state()
        first = tg.rand(3).data
        tg.manual_seed(9)
        tg.random.set_state(state)
        assert tg.random.is_legacy() is legacy
        np.testing.assert_array_equal(tg.rand(3).data, first)


def test_threads_draw_whole_calls_from_the_one_stream():
    """Concurrent draws are safe (each call takes consecutive values of the stream) but
    their order is not repeatable."""
    tg.manual_seed(2, legacy=True)
    chunks = []

    def draw():
        for _ in range(50):
            chunks.append(tg.rand(100, dtype=np.float64).data)

    threads = [threading.Thread(target=draw) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    np.random.seed(2)
    expected = np.random.rand(200, 100)
    got = np.array(sorted(chunks, key=lambda c: c[0]))
    np.testing.assert_array_equal(got, expected[np.argsort(expected[:, 0])])


@pytest.mark.parametrize("seed, legacy, error, match", [
    (-1, True, ValueError, r"manual_seed: the seed must be an int in \[0, 2\*\*32\)"),
    (2**32, True, ValueError, r"manual_seed: .*4294967296"),
    (-1, False, ValueError, r"manual_seed: the seed must be a non-negative int"),
    (1.5, True, TypeError, r"manual_seed: .*1\.5"),
    (1, "yes", TypeError, r"manual_seed: legacy must be True or False"),
])
def test_bad_seeds_are_rejected_and_change_nothing(seed, legacy, error, match):
    tg.manual_seed(4)
    with pytest.raises(error, match=match):
        tg.manual_seed(seed, legacy=legacy)
    assert not tg.random.is_legacy()
    np.testing.assert_array_equal(tg.rand(2, dtype=np.float64).data,
                                  np.random.default_rng(4).random(2))


@pytest.mark.parametrize("name, make, expected", [
    ("gd", lambda p: optim.SGD(p, lr=0.0007), 0.702405),
    ("momentum", lambda p: optim.Momentum(p, lr=0.0007, beta=0.9), 0.702413),
    ("adam", lambda p: optim.Adam(p, lr=0.0007), 0.702166),
])
def test_optimisation_lesson_first_epoch_costs(float64, name, make, expected):
    """The course's optimisation model on its moons (seed 3), He initialisation (seed 3),
    mini-batches of 64 with seed 10 + 1 per epoch: "Cost after epoch 0" is 0.702405 (gd),
    0.702413 (momentum) and 0.702166 (adam), the mean loss over the epoch's mini-batches."""
    pytest.importorskip("sklearn")
    tg.manual_seed(0, legacy=True)
    X, y = make_moons(300, noise=0.2, seed=3)
    tg.manual_seed(3, legacy=True)
    model = nn.Sequential(nn.Linear(2, 5, init="he_normal"), nn.ReLU(),
                          nn.Linear(5, 2, init="he_normal"), nn.ReLU(),
                          nn.Linear(2, 1, init="he_normal"))
    opt = make(model.parameters())
    total = 0.0
    for xb, yb in DataLoader(X, y.reshape(-1, 1).astype(np.float64), batch_size=64, seed=11):
        opt.zero_grad()
        cost = F.binary_cross_entropy_with_logits(model(xb), yb)
        cost.backward()
        opt.step()
        total += cost.item() * len(xb)
    assert round(total / len(X), 6) == expected


def test_initialisation_lesson_he_costs(float64):
    """The course's initialisation model on its circles (np.random.seed(1), make_circles(
    300, noise=.05)), initialize_parameters_he([2, 10, 5, 1]) (seed 3), gradient descent
    with α = 0.01: it prints cost 0.8830537463419761 at iteration 0 and 0.6879825919728063
    at iteration 1000."""
    pytest.importorskip("sklearn")
    tg.manual_seed(0, legacy=True)
    X, y = make_circles(300, noise=0.05, factor=0.8, seed=1)
    tg.manual_seed(3, legacy=True)
    model = nn.Sequential(nn.Linear(2, 10, init="he_normal"), nn.ReLU(),
                          nn.Linear(10, 5, init="he_normal"), nn.ReLU(),
                          nn.Linear(5, 1, init="he_normal"))
    costs = gradient_descent_costs(model, X, y, lr=0.01, iterations=1000)
    np.testing.assert_allclose([costs[0], costs[1000]], [0.8830537463419761,
                                                         0.6879825919728063], rtol=1e-12)


def test_seeds_numpy_cannot_take_are_rejected_in_legacy_mode():
    tg.manual_seed(0, legacy=True)
    with pytest.raises(ValueError, match=r"legacy mode .* \[0, 2\*\*32\), got 4294967296"):
        make_flower(10, seed=2**32)
    loader = DataLoader(np.zeros((4, 1)), np.zeros(4), batch_size=2, seed=2**32 - 1)
    next(iter(loader))  # epoch 0 seeds 2**32 - 1; epoch 1 would need 2**32
    with pytest.raises(ValueError, match=r"legacy mode .*got 4294967296"):
        next(iter(loader))
