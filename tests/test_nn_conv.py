"""nn's convolutional layers: parameter names, shapes and initialisation; outputs and
gradients against hand-written NumPy (loops over the output pixels); a residual block."""

import math

import numpy as np
import pytest

import tinygrad_ng as tg
from tinygrad_ng import nn, optim


def numpy_conv_forward_backward(x, w, b, dy, s, p):
    """The course's conv_forward / conv_backward, by loops: Z, and dA_prev, dW, db."""
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    n, _, oh, ow = dy.shape
    f = w.shape[2]
    z = np.zeros(dy.shape)
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for i in range(oh):
        for j in range(ow):
            window = xp[:, :, i * s:i * s + f, j * s:j * s + f]  # (n, C, f, f)
            z[:, :, i, j] = np.einsum("ncij,ocij->no", window, w) + b
            dxp[:, :, i * s:i * s + f, j * s:j * s + f] += np.einsum("no,ocij->ncij",
                                                                     dy[:, :, i, j], w)
            dw += np.einsum("no,ncij->ocij", dy[:, :, i, j], window)
    dx = dxp[:, :, p:p + x.shape[2], p:p + x.shape[3]]
    return z, dx, dw, dy.sum(axis=(0, 2, 3))


@pytest.mark.parametrize("s, p, f", [(1, 0, 3), (2, 1, 3), (1, 2, 5), (3, 0, 2), (1, 0, 1)])
def test_conv2d_layer_matches_numpy_loops(s, p, f):
    tg.set_default_dtype(np.float64)
    conv = nn.Conv2d(3, 4, f, stride=s, padding=p)
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 6))
    X = tg.Tensor(x, requires_grad=True)
    y = conv(X)
    dy = np.random.default_rng(1).standard_normal(y.shape)
    y.backward(dy)
    z, dx, dw, db = numpy_conv_forward_backward(x, conv.weight.data, conv.bias.data, dy, s, p)
    np.testing.assert_allclose(y.data, z, atol=1e-12)
    np.testing.assert_allclose(X.grad, dx, atol=1e-12)
    np.testing.assert_allclose(conv.weight.grad, dw, atol=1e-12)
    np.testing.assert_allclose(conv.bias.grad, db, atol=1e-12)


def test_parameter_names_shapes_and_pytorch_default_init():
    tg.manual_seed(0)
    layers = {
        "conv": (nn.Conv2d(16, 32, 3, groups=2), (32, 8, 3, 3), 8 * 9),
        "conv1d": (nn.Conv1d(4, 6, 5), (6, 4, 5), 4 * 5),
        "deconv": (nn.ConvTranspose2d(16, 8, 4, stride=2), (16, 8, 4, 4), 8 * 16),
    }
    for name, (layer, shape, fan_in) in layers.items():
        params = dict(layer.named_parameters())
        assert list(params) == ["weight", "bias"], name
        assert params["weight"].shape == shape and params["bias"].shape == (shape[0]
                                                                            if name != "deconv"
                                                                            else 8,)
        bound = 1 / math.sqrt(fan_in)  # PyTorch's kaiming_uniform_(a=√5): ±1/√fan_in
        for p in params.values():
            assert p.dtype == np.float32
            assert np.abs(p.data).max() <= bound
        w = params["weight"].data  # ≥ 120 draws: their spread is the uniform's, bound/√3
        assert abs(w.std() * math.sqrt(3) / bound - 1) < 0.15
    assert nn.Conv2d(3, 4, 3, bias=False).bias is None
    bn = nn.BatchNorm2d(5)
    assert set(bn.state_dict()) == {"weight", "bias", "running_mean", "running_var"}


def test_layer_shapes_through_a_course_sized_cnn():
    model = nn.Sequential(
        nn.Conv2d(3, 8, 4, padding="same"), nn.ReLU(), nn.MaxPool2d(8),
        nn.Conv2d(8, 16, 2, padding="same"), nn.ReLU(), nn.MaxPool2d(4),
        nn.Flatten(), nn.Linear(16 * 2 * 2, 6))
    assert model(tg.randn(5, 3, 64, 64)).shape == (5, 6)
    assert "MaxPool2d(kernel_size=8" in repr(model)


def test_batch_norm2d_matches_numpy_and_updates_running_stats():
    tg.set_default_dtype(np.float64)
    bn = nn.BatchNorm2d(3, momentum=0.5)
    bn.weight.data[...] = [1.0, 2.0, 0.5]
    bn.bias.data[...] = [0.0, -1.0, 3.0]
    x = np.random.default_rng(0).standard_normal((4, 3, 5, 6)) * 2 + 1
    X = tg.Tensor(x, requires_grad=True)
    y = bn(X)
    mu, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
    shape = (1, 3, 1, 1)
    x_norm = (x - mu.reshape(shape)) / np.sqrt(var.reshape(shape) + 1e-5)
    np.testing.assert_allclose(y.data, x_norm * bn.weight.data.reshape(shape)
                               + bn.bias.data.reshape(shape), atol=1e-12)
    m = 4 * 5 * 6
    np.testing.assert_allclose(bn.running_mean.data, 0.5 * mu)
    np.testing.assert_allclose(bn.running_var.data, 0.5 + 0.5 * var * m / (m - 1))
    dy = np.random.default_rng(1).standard_normal(y.shape)
    y.backward(dy)
    gamma = bn.weight.data.reshape(shape)
    axes = (0, 2, 3)
    dx = gamma / np.sqrt(var.reshape(shape) + 1e-5) * (
        dy - dy.mean(axis=axes, keepdims=True)
        - x_norm * (dy * x_norm).mean(axis=axes, keepdims=True))
    np.testing.assert_allclose(X.grad, dx, atol=1e-10)
    np.testing.assert_allclose(bn.weight.grad, (dy * x_norm).sum(axis=axes), atol=1e-10)
    bn.eval()
    np.testing.assert_allclose(
        bn(X).data, (x - bn.running_mean.data.reshape(shape))
        / np.sqrt(bn.running_var.data.reshape(shape) + 1e-5) * gamma
        + bn.bias.data.reshape(shape), atol=1e-12)
    with pytest.raises(ValueError, match=r"expected a batch of shape \(N, 3, H, W\)"):
        bn(tg.randn(4, 3))


def test_pooling_upsample_and_dropout2d_layers():
    x = tg.Tensor(np.arange(32.0).reshape(1, 2, 4, 4))
    np.testing.assert_array_equal(nn.MaxPool2d(2)(x).data[0, 0], [[5, 7], [13, 15]])
    np.testing.assert_array_equal(nn.AvgPool2d(2)(x).data[0, 0], [[2.5, 4.5], [10.5, 12.5]])
    np.testing.assert_array_equal(nn.AdaptiveAvgPool2d(1)(x).data.ravel(), [7.5, 23.5])
    assert nn.Upsample(scale_factor=2)(x).shape == (1, 2, 8, 8)
    drop = nn.Dropout2d(0.5)
    drop.eval()
    assert drop(x) is x


def test_conv2d_padding_modes():
    tg.set_default_dtype(np.float64)
    conv = nn.Conv2d(1, 1, 3, padding=1, padding_mode="replicate", bias=False)
    conv.weight.data[...] = 1 / 9
    x = tg.Tensor(np.full((1, 1, 4, 5), 2.0))
    np.testing.assert_allclose(conv(x).data, np.full((1, 1, 4, 5), 2.0))  # edges repeated
    same = nn.Conv2d(1, 2, 4, padding="same", padding_mode="reflect")
    assert same(x).shape == (1, 2, 4, 5)
    with pytest.raises(ValueError, match="padding_mode"):
        nn.Conv2d(1, 1, 3, padding_mode="circular")


class ResidualBlock(nn.Module):
    """conv → BN → ReLU → conv → BN, plus the skip: a[l+2] = relu(z[l+2] + a[l])."""

    def __init__(self, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x):
        out = self.bn1(self.conv1(x)).relu()
        return (self.bn2(self.conv2(out)) + x).relu()


def test_residual_block_gradients_and_training():
    tg.set_default_dtype(np.float64)
    tg.manual_seed(0)
    block = ResidualBlock(2)
    x = np.random.default_rng(0).standard_normal((3, 2, 5, 5))
    report = tg.check_model_gradients(block, lambda out, _: (out * out).mean(), x, None)
    assert report.passed, report
    # the skip alone carries the gradient even when the convolutions' weights are zero
    for conv in (block.conv1, block.conv2):
        conv.weight.data[...] = 0
    X = tg.Tensor(x, requires_grad=True)
    block(X).sum().backward()
    np.testing.assert_array_equal(X.grad, (x > 0).astype(float))
    # and it trains: a small CNN with the block fits a toy task
    tg.set_default_dtype(np.float32)
    tg.manual_seed(1)
    rng = np.random.default_rng(1)
    images = rng.standard_normal((32, 1, 6, 6)).astype(np.float32)
    labels = (images[:, 0, :3].sum(axis=(1, 2)) > images[:, 0, 3:].sum(axis=(1, 2))).astype(int)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), ResidualBlock(4),
                          nn.AdaptiveAvgPool2d((2, 1)), nn.Flatten(), nn.Linear(8, 2))
    opt = optim.Adam(model.parameters(), lr=0.02)
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    for _ in range(60):
        opt.zero_grad()
        loss = loss_fn(model(tg.Tensor(images)), tg.Tensor(labels))
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.3 * losses[0]


@pytest.mark.parametrize("s, p, extra", [(1, 0, 0), (2, 1, 1), (3, 0, 2), (2, 2, 0)])
def test_conv_transpose2d_layer_matches_numpy_scatter(s, p, extra):
    """Each input pixel adds W[o, c]·y[n, o, h, w] to the output window at (s·h − p, s·w − p)."""
    tg.set_default_dtype(np.float64)
    layer = nn.ConvTranspose2d(3, 2, 3, stride=s, padding=p, output_padding=extra)
    y = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    w, b = layer.weight.data, layer.bias.data
    H, W = [(n - 1) * s - 2 * p + 3 + extra for n in (4, 5)]
    full = np.zeros((2, 2, H + 2 * p + 3, W + 2 * p + 3))
    for h in range(4):
        for x_ in range(5):
            full[:, :, h * s:h * s + 3, x_ * s:x_ * s + 3] += np.einsum("no,ocij->ncij",
                                                                      y[:, :, h, x_], w)
    expected = full[:, :, p:p + H, p:p + W] + b[:, None, None]
    np.testing.assert_allclose(layer(tg.Tensor(y)).data, expected, atol=1e-12)
