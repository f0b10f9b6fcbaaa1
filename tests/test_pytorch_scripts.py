"""Three ordinary PyTorch training scripts that run here after changing only the imports.

Each body is written as a PyTorch user writes it. The expected numbers were worked out from
PyTorch's documented semantics (float32; CrossEntropyLoss = mean of −log softmax at the
target, SGD momentum buffer b = μb + g with b₁ = g, Adam with bias correction,
CosineAnnealingLR's closed form, MSELoss = mean of squares) by a separate NumPy derivation
of each forward and backward pass, not by running PyTorch, and are written in as numbers.
"""

import numpy as np
import pytest
import tinygrad_ng.nn as nn  # from torch import nn

import tinygrad_ng as torch  # import torch
from tinygrad_ng import optim  # from torch import optim
from tinygrad_ng.data import DataLoader, TensorDataset  # from torch.utils.data import ...


def test_classifier_with_a_dataloader():
    X = torch.tensor([[0.0, 0.0], [1.0, 0.2], [0.3, 1.0], [1.0, 1.0],
                      [-0.5, 0.4], [0.2, -0.7], [-1.0, -0.3], [0.6, -0.2]])
    y = torch.tensor([0, 1, 1, 1, 0, 0, 0, 1])
    loader = DataLoader(TensorDataset(X, y), batch_size=4, shuffle=False)

    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 2))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[0.5, -0.4], [0.3, 0.8], [-0.6, 0.1]]))
        model[0].bias.copy_(torch.tensor([0.1, 0.05, -0.1]))
        model[2].weight.copy_(torch.tensor([[0.2, -0.5, 0.3], [-0.3, 0.4, 0.6]]))
        model[2].bias.copy_(torch.tensor([0.0, 0.05]))
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=0.5, momentum=0.9)

    losses = []
    for epoch in range(3):
        model.train()
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        print(f"epoch {epoch}: loss {loss:.4f}")

    model.eval()
    with torch.no_grad():
        logits = model(X)
        pred = logits.argmax(dim=1)
        accuracy = (pred == y).float().mean().item()
        probs = torch.softmax(logits, dim=1)

    assert losses == pytest.approx([0.487977, 0.786719, 0.358817, 0.604589, 0.209975,
                                    0.338303], abs=2e-6)
    assert pred.tolist() == [0, 1, 1, 1, 0, 0, 0, 1] and accuracy == 1.0
    np.testing.assert_allclose(model[2].weight.data, [[0.065963, -1.315104, 0.593251],
                                                       [-0.165963, 1.215104, 0.306749]],
                               atol=2e-6)
    np.testing.assert_allclose(model[2].bias.data, [0.742211, -0.692211], atol=2e-6)
    np.testing.assert_allclose(probs.sum(dim=1).data, np.ones(8), rtol=1e-6)
    assert len(loader) == 2 and model[0].weight.grad.shape == (3, 2)


def test_regression_with_a_scheduler():
    x = torch.linspace(-1, 1, 16).unsqueeze(1)
    y = 3 * x ** 2 - x + 0.5 + 0.1 * torch.sin(7 * x)

    model = nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1))
    with torch.no_grad():
        model[0].weight.copy_(torch.linspace(-1, 1, 8).view(8, 1) * 2)
        model[0].bias.copy_(torch.linspace(-0.5, 0.5, 8))
        model[2].weight.copy_(torch.tensor([[0.3, -0.2, 0.1, 0.4, -0.3, 0.2, -0.1, 0.25]]))
        model[2].bias.fill_(0.1)
    loss_fn = nn.MSELoss()
    optimizer = optim.Adam(model.parameters(), lr=0.05)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=40, eta_min=0.001)

    losses, lrs = [], []
    for _epoch in range(40):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
        lrs.append(scheduler.get_last_lr()[0])

    with torch.no_grad():
        final = loss_fn(model(x), y).item()
        first = model(x)[0, 0].item()

    assert [losses[i] for i in (0, 9, 19, 39)] == pytest.approx(
        [3.772756, 1.315703, 1.019671, 0.820099], rel=1e-5)
    assert [lrs[i] for i in (0, 19, 39)] == pytest.approx([0.04992447, 0.0255, 0.001], rel=1e-6)
    assert final == pytest.approx(0.8187913, rel=1e-5)
    assert first == pytest.approx(2.4744391, rel=1e-5)
    assert model[2].bias.item() == pytest.approx(0.6738552, rel=1e-5)


def test_manual_sgd_loop():
    X = torch.tensor([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [2.0, -1.0], [-1.0, 0.5],
                      [0.5, 2.0]])
    y = X @ torch.tensor([[2.0], [-1.0]]) + 0.5
    w = torch.tensor([[0.5], [-0.3]], requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    params, lr = [w, b], 0.1

    losses = []
    for _step in range(100):
        pred = X @ w + b
        loss = ((pred - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
        w.grad = None  # (PyTorch also spells it w.grad.zero_(); here .grad is an ndarray)
        b.grad = None
        losses.append(loss.item())

    assert params[0] is w and w.requires_grad and w.is_leaf  # updated in place
    assert [losses[i] for i in (0, 1)] == pytest.approx([4.2024994, 2.1360576], rel=1e-6)
    assert losses[49] == pytest.approx(6.7323e-7, rel=1e-3)
    assert losses[99] == pytest.approx(5.4507e-9, rel=1e-2)
    np.testing.assert_allclose(w.data.ravel(), [1.9999303, -1.0000697], rtol=1e-6)
    np.testing.assert_allclose(b.data, [0.5001063], rtol=1e-6)


def test_dataloader_defaults_follow_the_spelling():
    X, y = np.arange(10.0).reshape(5, 2), np.arange(5)
    pytorch_style = DataLoader(TensorDataset(torch.tensor(X), torch.tensor(y)))
    assert len(pytorch_style) == 5  # PyTorch's batch_size=1, in order (shuffle=False)
    assert [yb.tolist() for _, yb in pytorch_style] == [[0], [1], [2], [3], [4]]
    course_style = DataLoader(np.tile(X, (20, 1)), np.tile(y, 20), seed=0)
    assert len(course_style) == 2  # the course's batch_size=64, shuffled
    assert next(iter(course_style))[1].tolist() != np.tile(y, 20)[:64].tolist()
    ds = TensorDataset(X, y)
    assert len(ds) == 5 and [t.tolist() for t in ds[1]] == [[2.0, 3.0], 1]
    with pytest.raises(ValueError, match="TensorDataset: the tensors have different lengths"):
        TensorDataset(X, y[:3])
    with pytest.raises(ValueError, match="DataLoader: expects a TensorDataset of 2 tensors"):
        DataLoader(TensorDataset(X))
    with pytest.raises(TypeError, match=r"DataLoader: give the targets too"):
        DataLoader(X)


def test_save_and_load_a_state_dict_by_pytorchs_names(tmp_path):
    model = nn.Linear(2, 2)
    torch.save(model.state_dict(), tmp_path / "model.pt")
    fresh = nn.Linear(2, 2)
    fresh.load_state_dict(torch.load(tmp_path / "model.pt"))
    np.testing.assert_array_equal(fresh.weight.data, model.weight.data)


def test_pytorch_module_paths():
    import tinygrad_ng.nn.functional as F2  # import torch.nn.functional as F

    assert F2 is torch.functional and torch.nn.functional.relu is F2.relu
    assert torch.nn.Linear is nn.Linear and torch.optim.SGD is optim.SGD
