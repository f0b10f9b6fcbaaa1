"""Transfer and multi-task learning (Course 3, week 2): freezing, optimisers skipping frozen
parameters, replacing the head, and the binary cross-entropy with missing labels masked."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_ng as tg
import tinygrad_ng.functional as F
from tinygrad_ng import nn, optim
from tinygrad_ng.testing.strategies import arrays, broadcastable_shapes


def mlp(seed=0, n_out=3):
    tg.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 6), nn.ReLU(),
                         nn.Linear(6, n_out))


def batch(seed=1, n_out=3):
    rng = np.random.default_rng(seed)
    return (tg.Tensor(rng.standard_normal((16, 4)).astype(np.float32)),
            tg.Tensor(rng.integers(0, n_out, 16)))


def snapshot(model):
    return {name: p.data.copy() for name, p in model.named_parameters()}


def train(model, opt, steps=15, seed=1):
    X, y = batch(seed, model[-1].out_features)
    for _ in range(steps):
        opt.zero_grad()
        F.cross_entropy(model(X), y).backward()
        opt.step()


# ---------------------------------------------------------------- freezing

def test_module_requires_grad_freezes_and_unfreezes():
    model = mlp()
    assert model.requires_grad_(False) is model
    assert not any(p.requires_grad for p in model.parameters())
    # frozen parameters are still parameters: listed, counted and saved
    assert len(list(model.parameters())) == 6
    assert set(model.state_dict()) == {f"{i}.{w}" for i in (0, 2, 4) for w in ("weight",
                                                                                "bias")}
    X, _ = batch()
    assert not model(X).requires_grad  # nothing to differentiate
    model[4].requires_grad_()
    assert [p.requires_grad for p in model.parameters()] == [False] * 4 + [True] * 2
    F.cross_entropy(model(X), batch()[1]).backward()
    assert model[0].weight.grad is None and model[4].weight.grad is not None


OPTIMISERS = {
    "sgd momentum + weight decay": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9,
                                                        weight_decay=0.01),
    "nesterov": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    "course momentum": lambda ps: optim.Momentum(ps, lr=0.1),
    "rmsprop": lambda ps: optim.RMSprop(ps, lr=0.01),
    "adam + weight decay": lambda ps: optim.Adam(ps, lr=0.01, weight_decay=0.1),
    "adamw": lambda ps: optim.AdamW(ps, lr=0.01, weight_decay=0.1),
}


@pytest.mark.parametrize("make", OPTIMISERS.values(), ids=OPTIMISERS.keys())
def test_frozen_parameters_stay_bit_for_bit_unchanged(make):
    model = mlp()
    nn.freeze_all_but_last(model, 1)
    before = snapshot(model)
    opt = make(model.parameters())  # every parameter, frozen ones included
    train(model, opt)
    after = snapshot(model)
    for name in ("0.weight", "0.bias", "2.weight", "2.bias"):
        assert after[name].tobytes() == before[name].tobytes(), name
    assert not np.array_equal(after["4.weight"], before["4.weight"])  # the head trained


@pytest.mark.parametrize("make", OPTIMISERS.values(), ids=OPTIMISERS.keys())
def test_freezing_mid_training_with_state_and_stale_grads(make):
    """Frozen after some steps: the momentum/Adam state and a gradient left over from the
    last backward (no zero_grad) must not move the frozen layers."""
    model = mlp()
    opt = make(model.parameters())
    train(model, opt, steps=5)
    X, y = batch()
    F.cross_entropy(model(X), y).backward()  # leaves a .grad on every parameter
    model[0].requires_grad_(False)
    assert model[0].weight.grad is not None
    before = snapshot(model)
    opt.step()
    train(model, opt, steps=5)
    after = snapshot(model)
    assert after["0.weight"].tobytes() == before["0.weight"].tobytes()
    assert after["0.bias"].tobytes() == before["0.bias"].tobytes()
    assert not np.array_equal(after["2.weight"], before["2.weight"])
    model[0].requires_grad_()  # unfrozen: trains again (fine-tuning)
    train(model, opt, steps=2)
    assert not np.array_equal(model[0].weight.data, after["0.weight"])


def test_freezing_gives_the_same_head_as_training_the_head_alone():
    """A frozen body with an optimiser over every parameter trains the head exactly as an
    optimiser given only the head."""
    a, b = mlp(), mlp()
    nn.freeze_all_but_last(a, 1)
    train(a, optim.Adam(a.parameters(), lr=0.01, weight_decay=0.1))
    b.requires_grad_(False)
    b[4].requires_grad_()
    train(b, optim.Adam(b[4].parameters(), lr=0.01, weight_decay=0.1))
    for (name, pa), (_, pb) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(pa.data, pb.data, err_msg=name)


def test_freeze_all_but_last_counts_layers_with_parameters():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.BatchNorm1d(3), nn.Linear(3, 1),
                          nn.Sigmoid())
    assert [p for p, _ in nn.layers_with_parameters(model)] == ["0", "2", "3"]
    flags = {k: [p.requires_grad for p in model.parameters()] for k in range(4)}
    for k in range(4):
        nn.freeze_all_but_last(model, k)
        flags[k] = [p.requires_grad for p in model.parameters()]
    assert flags[0] == [False] * 6
    assert flags[1] == [False] * 4 + [True] * 2
    assert flags[2] == [False] * 2 + [True] * 4
    assert flags[3] == [True] * 6
    with pytest.raises(ValueError, match="k=4 but the model has only 3 layers"):
        nn.freeze_all_but_last(model, 4)
    with pytest.raises(ValueError, match="k must be an int >= 0"):
        nn.freeze_all_but_last(model, -1)


def test_freeze_in_nested_models():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 4))
            self.head = nn.Linear(4, 1)

        def forward(self, x):
            return self.head(self.body(x))

    net = Net()
    nn.freeze_all_but_last(net, 2)
    assert [n for n, p in net.named_parameters() if p.requires_grad] == \
        ["body.2.weight", "body.2.bias", "head.weight", "head.bias"]
    old = nn.replace_head(net, nn.Linear(4, 3))
    assert old.out_features == 1 and net.head.out_features == 3
    assert net(tg.randn(5, 2)).shape == (5, 3)


# ---------------------------------------------------------------- replacing the head

def test_replace_head_keeps_the_body_and_trailing_activation():
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2), nn.Sigmoid())
    body = model[0].weight
    new = nn.Linear(5, 4)
    old = nn.replace_head(model, new)
    assert old.out_features == 2 and model[2] is new
    assert model[0].weight is body and isinstance(model[3], nn.Sigmoid)
    assert list(dict(model.named_children())) == ["0", "1", "2", "3"]
    out = model(tg.randn(7, 3))
    assert out.shape == (7, 4) and (out.data > 0).all()
    assert "2.weight" in model.state_dict() and model.state_dict()["2.weight"].shape == (4, 5)


def test_replace_head_errors():
    with pytest.raises(ValueError, match="no layer with parameters"):
        nn.replace_head(nn.Sequential(nn.ReLU()), nn.Linear(1, 1))
    with pytest.raises(ValueError, match="only layer with parameters"):
        nn.replace_head(nn.Linear(2, 2), nn.Linear(2, 1))
    with pytest.raises(TypeError, match="head must be an nn.Module"):
        nn.replace_head(mlp(), "linear")


# ---------------------------------------------------------------- multi-task: masked BCE

def _bce_logits(z, y):
    return np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))


def test_masked_bce_by_hand_and_course_cost():
    # the course's multi-task labels: 4 images x 4 objects, "?" = not labelled
    Y = np.array([[1, 0, np.nan, 0],
                  [0, 1, 1, np.nan],
                  [np.nan, np.nan, 0, 1],
                  [1, 1, 0, 0]])
    Y_before = Y.copy()
    mask = ~np.isnan(Y)
    rng = np.random.default_rng(0)
    z = tg.Tensor(rng.standard_normal((4, 4)), requires_grad=True)
    J = F.binary_cross_entropy_with_logits(z, Y, weight=mask, reduction="sum") / 4
    filled = np.where(mask, Y, 0)
    expected = np.sum(_bce_logits(z.data, filled) * mask) / 4  # (1/m) Σᵢ Σ_{j labelled}
    assert J.item() == pytest.approx(expected)
    J.backward()
    sigma = 1 / (1 + np.exp(-z.data))
    np.testing.assert_allclose(z.grad, (sigma - filled) * mask / 4)
    assert (z.grad[~mask] == 0).all()  # a missing label teaches nothing
    np.testing.assert_array_equal(Y, Y_before)  # NaNs still there: the input is not changed
    mean = F.binary_cross_entropy_with_logits(z, Y, weight=mask)
    assert mean.item() == pytest.approx(expected * 4 / 16)  # PyTorch's mean: over all elements
    none = F.binary_cross_entropy_with_logits(z, Y, weight=mask, reduction="none")
    np.testing.assert_allclose(none.data, _bce_logits(z.data, filled) * mask)


def test_weight_is_a_rescaling_like_pytorch():
    rng = np.random.default_rng(1)
    z, y = rng.standard_normal((3, 2)), rng.integers(0, 2, (3, 2)).astype(float)
    w = np.array([2.0, 0.5])  # per-column weight, broadcast over the rows
    got = F.binary_cross_entropy_with_logits(tg.Tensor(z), y, weight=w).item()
    assert got == pytest.approx(np.mean(_bce_logits(z, y) * w))
    ones = F.binary_cross_entropy_with_logits(tg.Tensor(z), y, weight=np.ones((3, 2))).item()
    assert ones == pytest.approx(F.binary_cross_entropy_with_logits(tg.Tensor(z), y).item())
    a = 1 / (1 + np.exp(-z))
    probs = F.binary_cross_entropy(tg.Tensor(a), y, weight=w, reduction="sum").item()
    assert probs == pytest.approx(np.sum(_bce_logits(z, y) * w), rel=1e-6)


@given(data=st.data(), reduction=st.sampled_from(["mean", "sum", "none"]))
def test_weighted_bce_gradcheck(data, reduction):
    z_shape, w_shape = data.draw(broadcastable_shapes(2, min_dims=1))
    z_shape = np.broadcast_shapes(z_shape, w_shape)  # the weight broadcasts to the input
    z = tg.Tensor(data.draw(arrays(z_shape)), requires_grad=True)
    y = data.draw(arrays(z_shape, low=0.0, high=1.0))
    w = data.draw(arrays(w_shape, low=0.0, high=2.0))
    assert tg.gradcheck(lambda t: F.binary_cross_entropy_with_logits(
        t, y, weight=w, reduction=reduction), [z])
    p = tg.Tensor(data.draw(arrays(z_shape, low=0.05, high=0.95)), requires_grad=True)
    assert tg.gradcheck(lambda t: F.binary_cross_entropy(t, y, weight=w, reduction=reduction),
                        [p])


def test_masked_labels_do_not_change_loss_or_gradient():
    rng = np.random.default_rng(2)
    z = rng.standard_normal((5, 3))
    mask = rng.random((5, 3)) > 0.4
    results = []
    for fill in (0.0, 1.0, np.nan):
        Y = np.where(mask, rng.integers(0, 2, (5, 3)), fill) if not results else \
            np.where(mask, results[0][2], fill)
        t = tg.Tensor(z, requires_grad=True)
        J = F.binary_cross_entropy_with_logits(t, Y, weight=mask)
        J.backward()
        results.append((J.item(), t.grad, Y))
    for J, grad, _ in results[1:]:
        assert J == results[0][0]
        np.testing.assert_array_equal(grad, results[0][1])


def test_extreme_logits_stay_finite_with_a_mask():
    z = tg.Tensor(np.array([[1e4, -1e4], [0.0, 50.0]]), requires_grad=True)
    Y = np.array([[0.0, np.nan], [1.0, 1.0]])
    J = F.binary_cross_entropy_with_logits(z, Y, weight=~np.isnan(Y))
    J.backward()
    assert np.isfinite(J.item()) and np.isfinite(z.grad).all()


@pytest.mark.parametrize("y, w, match", [
    (np.array([[np.nan, 1.0]]), np.array([[1, 1]]), "NaN where the weight is not 0"),
    (np.array([[np.nan, 1.0]]), None, None),  # no weight: NaN stays NaN, as before
    (np.zeros((1, 2)), np.array([1.0, 1.0, 1.0]), r"weight of shape \(3,\) does not broadcast"),
    (np.zeros((1, 2)), np.array([np.inf, 1.0]), "finite numbers"),
    (np.array([np.nan, 1.0]), np.array([[0], [1]]), "weight of shape"),
])
def test_weight_errors(y, w, match):
    z = tg.Tensor(np.zeros((1, 2)))
    if match is None:
        with np.errstate(invalid="ignore"):
            assert np.isnan(F.binary_cross_entropy_with_logits(z, y).item())
        return
    with pytest.raises(ValueError, match=match):
        F.binary_cross_entropy_with_logits(z, y, weight=w)
