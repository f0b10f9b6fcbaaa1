"""nn: module discovery, modes, state dicts, layers, initialisers, losses and checkpoints."""

import os
import pickle
import re
from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_ng as tg
import tinygrad_ng.functional as F
from tinygrad_ng import nn

init = nn.init


class Block(nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.fc = nn.Linear(n_in, n_out)
        self.norm = nn.BatchNorm1d(n_out)
        self.drop = nn.Dropout(0.2)

    def forward(self, x):
        return self.drop(self.norm(self.fc(x)).relu())


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([Block(3, 4), Block(4, 4)])
        self.heads = nn.ModuleDict({"a": nn.Linear(4, 2), "b": nn.Linear(4, 1, bias=False)})
        self.scale = nn.Parameter(1.5)
        self.constant = tg.ones(2)  # no grad: a plain attribute

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return self.heads["a"](x) * self.scale


# ----------------------------------------------------------------------------- discovery


def test_named_parameters_and_buffers_use_dotted_paths():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["scale",
                     "layers.0.fc.weight", "layers.0.fc.bias", "layers.0.norm.weight",
                     "layers.0.norm.bias",
                     "layers.1.fc.weight", "layers.1.fc.bias", "layers.1.norm.weight",
                     "layers.1.norm.bias",
                     "heads.a.weight", "heads.a.bias", "heads.b.weight"]
    assert [n for n, _ in net.named_buffers()] == [
        "layers.0.norm.running_mean", "layers.0.norm.running_var",
        "layers.1.norm.running_mean", "layers.1.norm.running_var"]
    assert list(net.state_dict()) == names + [n for n, _ in net.named_buffers()]
    assert net.num_parameters() == 1 + (12 + 4 + 8) + (16 + 4 + 8) + 10 + 4
    assert [type(c).__name__ for c in net.children()] == ["ModuleList", "ModuleDict"]
    assert len(list(net.modules())) == 1 + 1 + 2 * 4 + 1 + 2


def test_parameter_is_a_plain_tensor_that_requires_grad():
    p = nn.Parameter([1, 2])
    assert type(p) is tg.Tensor and p.requires_grad and p.dtype == np.float32
    arr = np.ones(3)
    assert nn.Parameter(arr).data is arr  # shared, not copied
    assert not nn.Parameter(arr, requires_grad=False).requires_grad


def test_registration_rules():
    m = nn.Module()
    m.w = nn.Parameter(np.ones(2))
    m.frozen = nn.Parameter(np.ones(2))
    m.frozen.requires_grad_(False)  # stays a parameter slot
    m.b = None
    m.register_parameter("maybe", None)
    m.register_buffer("stat", tg.zeros(2))
    m.cache = tg.ones(2)  # not trainable, not registered
    m.stat = tg.ones(2)  # reassigning a buffer keeps it a buffer
    assert [n for n, _ in m.named_parameters()] == ["w", "frozen"]
    assert [n for n, _ in m.named_buffers()] == ["stat"]
    with pytest.raises(TypeError, match="leaf"):
        m.w = m.w * 2  # the classic bug: rebinding a parameter to a computed tensor
    with pytest.raises(TypeError, match="parameter 'w'"):
        m.w = 3  # as PyTorch: a parameter slot takes a Tensor or None
    del m.w  # deleting the attribute frees the name
    assert [n for n, _ in m.named_parameters()] == ["frozen"]
    del m.frozen
    assert list(m.named_parameters()) == []
    with pytest.raises(TypeError, match="buffer 'x' must be a Tensor"):
        m.register_buffer("x", np.ones(2))
    with pytest.raises(TypeError, match="submodule 'y' must be a Module"):
        m.add_module("y", tg.ones(2))


def test_shared_parameters_are_listed_once_but_saved_under_each_name():
    a, b = nn.Linear(2, 2), nn.Linear(2, 2)
    b.weight = a.weight
    model = nn.Sequential(a, b)
    assert len(list(model.parameters())) == 3
    assert list(model.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_assigning_before_super_init_is_a_clear_error():
    class Broken(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Broken()


def test_train_and_eval_reach_every_submodule():
    net = Net()
    assert net.eval() is net
    assert all(not m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net.heads.train(False)
    assert not net.heads["a"].training and net.layers[0].drop.training


def test_zero_grad_and_apply():
    net = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    net(tg.randn(4, 2)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen == ["Linear", "Tanh", "Linear", "Sequential"]  # children first


def test_call_labels_graph_nodes_with_module_paths():
    net = Net()
    out = net(tg.randn(5, 3))
    assert out._ctx.scope == "Net"  # the final multiply runs in the root's forward
    linear_out = out._ctx.parents[0]
    assert linear_out._ctx.scope == "heads.a"
    node, scopes = out, set()
    stack = [node]
    while stack:
        t = stack.pop()
        if t._ctx is not None:
            scopes.add(t._ctx.scope)
            stack.extend(t._ctx.parents)
    assert {"layers.0.fc", "layers.0.norm", "layers.1.drop", "layers.0", "heads.a"} <= scopes
    standalone = nn.Linear(3, 2)
    assert standalone(tg.randn(1, 3))._ctx.scope == "Linear"


def test_scope_names_follow_changes_to_the_model():
    model = nn.Sequential(nn.Linear(2, 2))
    assert model(tg.randn(1, 2))._ctx.scope == "0"
    inner = model[0]
    assert inner(tg.randn(1, 2))._ctx.scope == "Linear"  # called on its own
    assert model(tg.randn(1, 2))._ctx.scope == "0"  # named by its root again
    model.append(nn.Tanh())
    assert model(tg.randn(1, 2))._ctx.scope == "1"


def test_repr_shows_structure_and_parameter_counts():
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1), nn.Sigmoid())
    text = repr(model)
    assert text.splitlines() == [
        "Sequential(",
        "  (0): Linear(in_features=2, out_features=4, bias=True)  # 12 parameters",
        "  (1): Tanh()",
        "  (2): Linear(in_features=4, out_features=1, bias=True)  # 5 parameters",
        "  (3): Sigmoid()",
        ")  # 17 parameters",
    ]
    assert "BatchNorm1d(4, eps=1e-05, momentum=0.1)" in repr(Net())


def test_containers():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    seq = nn.Sequential(*layers)
    assert len(seq) == 3 and seq[-1] is layers[2] and list(seq) == layers
    assert isinstance(seq[:2], nn.Sequential) and len(seq[:2]) == 2
    seq.append(nn.Sigmoid())
    assert [n for n, _ in seq.named_children()] == ["0", "1", "2", "3"]
    named = nn.Sequential(OrderedDict([("hidden", nn.Linear(2, 3)), ("act", nn.Tanh())]))
    assert [n for n, _ in named.named_parameters()] == ["hidden.weight", "hidden.bias"]
    ml = nn.ModuleList([nn.Tanh()]).extend([nn.ReLU()])
    assert len(ml) == 2 and isinstance(ml[1], nn.ReLU) and len(ml[:1]) == 1
    md = nn.ModuleDict({"x": nn.Tanh()})
    md["y"] = nn.ReLU()
    assert md.keys() == ["x", "y"] and "y" in md and len(md) == 2
    del md["x"]
    assert list(md) == ["y"]
    with pytest.raises(KeyError, match="'x'"):
        md["x"]
    with pytest.raises(TypeError, match="Module"):
        nn.Sequential(nn.Tanh(), "relu")
    with pytest.raises(ValueError, match="'.'"):
        nn.ModuleDict({"a.b": nn.Tanh()})


# ----------------------------------------------------------------------------- state dicts


def _mlp(sizes, seed):
    tg.manual_seed(seed)
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.BatchNorm1d(b), nn.Tanh()]
    return nn.Sequential(*layers)


@given(sizes=st.lists(st.integers(1, 5), min_size=2, max_size=4), seed=st.integers(0, 99))
def test_state_dict_round_trip(sizes, seed):
    src, dst = _mlp(sizes, seed), _mlp(sizes, seed + 1)
    x = tg.Tensor(np.random.default_rng(seed).standard_normal((6, sizes[0])), dtype=np.float32)
    src(x)  # training mode: moves the running statistics away from their initial values
    sd = src.state_dict()
    dst.load_state_dict(sd)
    for (k, a), (k2, b) in zip(sd.items(), dst.state_dict().items()):
        assert k == k2
        np.testing.assert_array_equal(a, b)
    src.eval(), dst.eval()
    np.testing.assert_array_equal(src(x).data, dst(x).data)


def test_state_dict_is_a_snapshot():
    lin = nn.Linear(2, 2)
    sd = lin.state_dict()
    before = sd["weight"].copy()
    lin.weight.data += 1
    np.testing.assert_array_equal(sd["weight"], before)
    lin.load_state_dict(sd)
    sd["weight"][...] = 7  # nor does the model alias the dict it loaded
    np.testing.assert_array_equal(lin.weight.data, before)


def test_strict_load_names_the_offending_key_and_changes_nothing():
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    before = model.state_dict()
    sd = model.state_dict()
    del sd["1.running_var"]
    sd["0.weight"] = sd["0.weight"] + 1
    with pytest.raises(KeyError, match=r"missing key\(s\) '1.running_var'"):
        model.load_state_dict(sd)
    sd = model.state_dict()
    sd["extra.weight"] = np.zeros(2)
    with pytest.raises(KeyError, match="unexpected key.*'extra.weight'"):
        model.load_state_dict(sd)
    sd = model.state_dict()
    sd["1.bias"] = np.zeros(4)
    sd["0.bias"] = sd["0.bias"] + 1
    with pytest.raises(ValueError, match=r"'1.bias'.*\(4,\).*\(3,\)"):
        model.load_state_dict(sd)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, before[k], err_msg=k)


def test_non_strict_load_reports_and_casts():
    model = nn.Linear(2, 3)
    result = model.load_state_dict({"weight": np.ones((3, 2)), "other": np.ones(1)},
                                   strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["other"]
    assert model.weight.dtype == np.float32
    np.testing.assert_array_equal(model.weight.data, np.ones((3, 2)))
    with pytest.raises(ValueError, match="'weight'"):
        model.load_state_dict({"weight": np.ones((2, 2))}, strict=False)


# ----------------------------------------------------------------------------- layers


def test_linear_computes_xw_transpose_plus_b():
    lin = nn.Linear(3, 2)
    assert lin.weight.shape == (2, 3) and lin.bias.shape == (2,)
    X = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    expected = X @ lin.weight.data.T + lin.bias.data
    np.testing.assert_allclose(lin(X).data, expected, rtol=1e-6)
    assert nn.Linear(3, 2, bias=False).bias is None
    with pytest.raises(ValueError, match=r"\(5, 4\).*3 features"):
        lin(np.zeros((5, 4), np.float32))
    with pytest.raises(ValueError, match="in_features"):
        nn.Linear(0, 2)


def test_linear_layer_takes_integer_input_and_names_a_replaced_weight_that_does_not_fit():
    lin = nn.Linear(3, 2)
    out = lin(np.arange(6).reshape(2, 3))  # integers become the default float dtype
    assert out.dtype == lin.weight.dtype
    np.testing.assert_allclose(out.data, np.arange(6).reshape(2, 3) @ lin.weight.data.T
                               + lin.bias.data, rtol=1e-6)
    lin.weight = nn.Parameter(np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match=r"linear: x of shape \(2, 3\) and weight of shape "
                                         r"\(2, 4\) do not fit"):
        lin(np.zeros((2, 3), np.float32))


def test_linear_default_init_is_pytorchs_uniform():
    lin = nn.Linear(100, 400)
    bound = 1 / np.sqrt(100)
    for p in (lin.weight.data, lin.bias.data):
        assert np.abs(p).max() <= bound and np.abs(p).max() > 0.9 * bound
    np.testing.assert_allclose(lin.weight.data.std(), bound / np.sqrt(3), rtol=0.05)


@pytest.mark.parametrize("name, std", [
    ("he_normal", np.sqrt(2 / 200)), ("lecun_normal", np.sqrt(1 / 200)),
    ("xavier_normal", np.sqrt(2 / 500)), ("xavier_uniform", np.sqrt(2 / 500)),
    ("normal", 0.01), ("zeros", 0.0),
])
def test_linear_init_options(name, std):
    lin = nn.Linear(200, 300, init=name)
    np.testing.assert_allclose(lin.weight.data.std(), std, rtol=0.05)
    np.testing.assert_array_equal(lin.bias.data, 0)


def test_linear_init_callable_and_unknown():
    lin = nn.Linear(2, 2, init=lambda w: init.normal_(w, std=0.0, mean=3.0))
    np.testing.assert_array_equal(lin.weight.data, 3)
    with pytest.raises(ValueError, match="unknown init 'kaiming'"):
        nn.Linear(2, 2, init="kaiming")


def test_activation_modules_match_functional():
    z = tg.randn(4, 3)
    pairs = [(nn.ReLU(), F.relu(z)), (nn.Sigmoid(), F.sigmoid(z)), (nn.Tanh(), F.tanh(z)),
             (nn.LeakyReLU(0.2), F.leaky_relu(z, 0.2)), (nn.Softmax(0), F.softmax(z, 0)),
             (nn.LogSoftmax(), F.log_softmax(z)), (nn.Identity(), z)]
    for module, expected in pairs:
        np.testing.assert_array_equal(module(z).data, expected.data, err_msg=repr(module))
    assert nn.Flatten()(tg.randn(2, 3, 4)).shape == (2, 12)
    assert nn.Flatten(0)(tg.randn(2, 3, 4)).shape == (24,)


def test_whole_network_gradient_check_passes():
    """All layers together pass the course's gradient check (dropout masks held fixed)."""
    model = nn.Sequential(nn.Linear(3, 5), nn.BatchNorm1d(5), nn.LeakyReLU(0.1),
                          nn.Dropout(0.3), nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 3))
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((8, 3)), rng.integers(0, 3, 8)
    report = tg.check_model_gradients(model, nn.CrossEntropyLoss(), X, y)
    assert report.passed, str(report)
    assert set(report.per_parameter) == {n for n, _ in model.named_parameters()}


def test_batchnorm_running_statistics_follow_pytorch():
    bn = nn.BatchNorm1d(3, momentum=0.2)
    assert bn.gamma is bn.weight and bn.beta is bn.bias
    rng = np.random.default_rng(1)
    mean, var = np.zeros(3), np.ones(3)
    for _ in range(3):
        x = rng.standard_normal((10, 3)) * 2 + 1
        out = bn(x.astype(np.float32))
        np.testing.assert_allclose(out.data, (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5),
                                   rtol=1e-4, atol=1e-5)
        mean = 0.8 * mean + 0.2 * x.mean(0)
        var = 0.8 * var + 0.2 * x.var(0, ddof=1)
    np.testing.assert_allclose(bn.running_mean.data, mean, rtol=1e-5)
    np.testing.assert_allclose(bn.running_var.data, var, rtol=1e-5)
    sd = bn.state_dict()
    np.testing.assert_array_equal(sd["running_var"], bn.running_var.data)
    bn.eval()
    x = rng.standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_allclose(bn(x).data, (x - mean) / np.sqrt(var + 1e-5), rtol=1e-4,
                               atol=1e-5)
    np.testing.assert_allclose(bn.running_mean.data, mean, rtol=1e-5)  # eval: unchanged
    assert bn(tg.randn(4, 3, 5)).shape == (4, 3, 5)
    with pytest.raises(ValueError, match=r"\(m, 3\)"):
        bn(tg.randn(4, 2))


def test_dropout_train_and_eval():
    drop = nn.Dropout(0.25)
    x = tg.ones(1000, 4)
    out = drop(x).data
    assert set(np.unique(out)) == {0.0, np.float32(1 / 0.75)}
    assert 0.2 < (out == 0).mean() < 0.3
    drop.eval()
    assert drop(x) is x
    with pytest.raises(ValueError, match="p"):
        nn.Dropout(1.5)


def test_loss_modules_match_functional():
    rng = np.random.default_rng(0)
    z = tg.Tensor(rng.standard_normal((6, 3)), dtype=np.float32)
    labels = rng.integers(0, 3, 6)
    y01 = (rng.random((6, 3)) > 0.5).astype(np.float32)
    for reduction in ("mean", "sum", "none"):
        cases = [
            (nn.CrossEntropyLoss(reduction, label_smoothing=0.1)(z, labels),
             F.cross_entropy(z, labels, reduction=reduction, label_smoothing=0.1)),
            (nn.BCELoss(reduction)(z.sigmoid(), y01),
             F.binary_cross_entropy(z.sigmoid(), y01, reduction)),
            (nn.BCEWithLogitsLoss(reduction)(z, y01),
             F.binary_cross_entropy_with_logits(z, y01, reduction)),
            (nn.MSELoss(reduction)(z, y01), F.mse_loss(z, y01, reduction)),
        ]
        for got, expected in cases:
            np.testing.assert_array_equal(got.data, expected.data)
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss("average")
    assert "label_smoothing=0.1" in repr(nn.CrossEntropyLoss(label_smoothing=0.1))


# ----------------------------------------------------------------------------- init


@pytest.mark.parametrize("fn, std", [
    (init.he_normal_, np.sqrt(2 / 300)), (init.lecun_normal_, np.sqrt(1 / 300)),
    (init.xavier_normal_, np.sqrt(2 / 700)), (init.xavier_uniform_, np.sqrt(2 / 700)),
    (lambda w: init.normal_(w), 0.01), (lambda w: init.uniform_(w, -1, 1), 1 / np.sqrt(3)),
])
def test_init_schemes_have_the_course_variances(fn, std):
    w = tg.Tensor(np.zeros((400, 300), np.float32), requires_grad=True)
    array = w.data
    assert fn(w) is w and w.data is array and w.dtype == np.float32  # in place
    np.testing.assert_allclose(w.data.std(), std, rtol=0.03)
    assert abs(w.data.mean()) < 0.1 * std


def test_init_bounds_seeding_and_errors():
    w = tg.zeros(50, 60)
    init.xavier_uniform_(w)
    assert np.abs(w.data).max() <= np.sqrt(6 / 110)
    tg.manual_seed(4)
    a = init.he_normal_(tg.zeros(3, 4)).data.copy()
    tg.manual_seed(4)
    np.testing.assert_array_equal(init.he_normal_(tg.zeros(3, 4)).data, a)
    assert init.fans(tg.zeros(5, 3)) == (3, 5)
    np.testing.assert_array_equal(init.zeros_(tg.ones(3)).data, 0)
    with pytest.raises(ValueError, match="at least 2 axes"):
        init.he_normal_(tg.zeros(3))
    with pytest.raises(ValueError, match="a <= b"):
        init.uniform_(tg.zeros(3), 1, 0)


# ----------------------------------------------------------------------------- save / load

numeric_arrays = st.sampled_from([np.float32, np.float64, np.int64, np.bool_]).flatmap(
    lambda dt: st.lists(st.integers(0, 3), max_size=3).map(
        lambda shape: (np.arange(int(np.prod(shape))) % 5).reshape(shape).astype(dt)))


@given(st.dictionaries(st.from_regex(r"[a-z][a-z0-9_.]{0,8}", fullmatch=True), numeric_arrays,
                       max_size=5))
def test_save_load_round_trip_flat(tmp_path_factory, sd):
    path = tmp_path_factory.mktemp("ck") / "sd.npz"
    nn.save(sd, path)
    back = nn.load(path)
    assert list(back) == list(sd)
    for k in sd:
        assert back[k].dtype == sd[k].dtype and back[k].shape == sd[k].shape
        np.testing.assert_array_equal(back[k], sd[k])


def test_save_load_nested_checkpoint(tmp_path):
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    ckpt = {"model": model, "epoch": 7, "lr": 0.05, "note": "best", "flags": [True, None],
            "betas": (0.9, 0.999), 3: {"step": np.int64(4), "buf": tg.ones(2)}}
    nn.save(ckpt, tmp_path / "c.npz")
    back = nn.load(tmp_path / "c.npz")
    assert back["epoch"] == 7 and back["lr"] == 0.05 and back["note"] == "best"
    assert back["flags"] == [True, None] and back["betas"] == (0.9, 0.999)
    assert back[3]["step"] == 4 and back[3]["step"].dtype == np.int64
    np.testing.assert_array_equal(back[3]["buf"], np.ones(2, np.float32))
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(back["model"][k], v)


def test_module_checkpoint_is_a_plain_npz(tmp_path):
    model = nn.Sequential(nn.Linear(2, 3))
    path = tmp_path / "model"  # written exactly here, no extension added
    nn.save(model, path)
    assert os.listdir(tmp_path) == ["model"]
    with np.load(path, allow_pickle=False) as f:
        assert sorted(f.files) == ["0.bias", "0.weight"]
        np.testing.assert_array_equal(f["0.weight"], model[0].weight.data)
    fresh = nn.Sequential(nn.Linear(2, 3))
    fresh.load_state_dict(nn.load(path))
    np.testing.assert_array_equal(fresh[0].bias.data, model[0].bias.data)


def test_load_refuses_pickles(tmp_path):
    objects = tmp_path / "objects.npz"
    np.savez(objects, w=np.array([{"evil": 1}], dtype=object))
    with pytest.raises(ValueError, match="pickle"):
        nn.load(objects)
    raw = tmp_path / "raw.pkl"
    raw.write_bytes(pickle.dumps({"w": np.ones(2)}))
    with pytest.raises(ValueError, match="pickle"):
        nn.load(raw)
    single = tmp_path / "single.npy"
    np.save(single, np.ones(2))
    with pytest.raises(ValueError, match="single .npy"):
        nn.load(single)


def test_save_refuses_what_it_cannot_store_without_pickle(tmp_path):
    with pytest.raises(TypeError, match="dtype object"):
        nn.save({"w": np.array([None])}, tmp_path / "a.npz")
    with pytest.raises(TypeError, match="type set"):
        nn.save({"w": {1, 2}}, tmp_path / "b.npz")
    assert os.listdir(tmp_path) == []


def test_save_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    model = nn.Linear(3, 2)
    nn.save(model, path)
    good, saved_weight = path.read_bytes(), model.weight.data.copy()

    def crash(file, *args, **kwargs):
        file.write(b"PK\x03\x04 half a zip")  # some bytes reach the disk, then the crash
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", crash)
    model.weight.data += 1
    with pytest.raises(OSError, match="disk full"):
        nn.save(model, path)
    monkeypatch.undo()
    assert path.read_bytes() == good
    assert os.listdir(tmp_path) == ["model.npz"]  # no temporary file left behind
    restored = nn.Linear(3, 2)
    restored.load_state_dict(nn.load(path))
    np.testing.assert_array_equal(restored.weight.data, saved_weight)


def test_qa_regressions_in_module_bookkeeping():
    lin = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="parameter 'weight'"):
        lin.weight = np.ones((2, 2))
    assert [k for k, _ in lin.named_parameters()] == ["weight", "bias"]
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, shared)
    assert list(model.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    assert len(list(model.parameters())) == 2
    model.load_state_dict(model.state_dict())
    seq = nn.Sequential(nn.Linear(1, 1), nn.ReLU(), nn.Linear(1, 2))
    delattr(seq, "1")
    seq.append(nn.Tanh())
    assert [type(m).__name__ for m in seq] == ["Linear", "Linear", "Tanh"]
    assert nn.Softmax(dim=0).axis == 0 and nn.Flatten(start_dim=2).start_axis == 2
    with pytest.raises(ValueError, match="momentum"):
        nn.BatchNorm1d(3, momentum=None)


def test_load_into_a_module_or_as_a_state_dict(tmp_path):
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    model[1].running_mean.data[...] = [1.0, 2.0, 3.0]
    path = tmp_path / "m.npz"
    nn.save(model, path)
    fresh = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    assert nn.load(fresh, path) is fresh
    for (k, a), (_, b) in zip(model.state_dict().items(), fresh.state_dict().items()):
        np.testing.assert_array_equal(a, b, err_msg=k)
    assert set(nn.load(path)) == set(model.state_dict())
    nn.save({"model": model, "epoch": 3}, tmp_path / "ck.npz")
    with pytest.raises(ValueError, match="structured checkpoint"):
        nn.load(fresh, tmp_path / "ck.npz")
    with pytest.raises(KeyError, match="missing key"):
        nn.load(nn.Linear(2, 3), path)


def _bad_checkpoints(tmp_path):
    """(file, what the error must say) for every kind of bad file."""
    good = tmp_path / "good.npz"
    nn.save(nn.Linear(4, 3), good)
    data = good.read_bytes()
    files = {
        "truncated.npz": (data[: len(data) // 2], "truncated or damaged"),
        "cut_end.npz": (data[:-5], "truncated or damaged"),
        "crc.npz": (data[:60] + bytes(b ^ 0xFF for b in data[60:70]) + data[70:],
                    "truncated or damaged"),
        "random.npz": (np.random.default_rng(0).bytes(200), "not an .npz checkpoint"),
        "empty.npz": (b"", "empty"),
        "pickle.npz": (pickle.dumps({"w": np.ones(2)}), "pickle"),
        "text.npz": (b"hello, world\n", "not an .npz checkpoint"),
    }
    for name, (content, _) in files.items():
        (tmp_path / name).write_bytes(content)
    np.savez(tmp_path / "objects.npz", w=np.array([{"evil": 1}], dtype=object))
    files["objects.npz"] = (None, "entry 'w' .*pickled")
    np.save(tmp_path / "single.npy", np.ones(2))
    files["single.npy"] = (None, "single .npy array")
    return {tmp_path / name: what for name, (_, what) in files.items()}


def test_every_bad_checkpoint_gets_one_error_naming_the_path_and_the_problem(tmp_path):
    for path, what in _bad_checkpoints(tmp_path).items():
        for args in ((path,), (nn.Linear(4, 3), path)):
            with pytest.raises(ValueError) as info:
                nn.load(*args)
            message = str(info.value)
            assert message.startswith(f"nn.load: {path} ") or f"of {path} " in message, message
            assert re.search(what, message), (path.name, message)
            e = info.value  # one error: nothing chained to it
            assert e.__cause__ is None and (e.__context__ is None or e.__suppress_context__)
    with pytest.raises(FileNotFoundError, match=f"nn.load: cannot read {tmp_path / 'no.npz'}"):
        nn.load(tmp_path / "no.npz")
    with pytest.raises(ValueError, match="cannot read"):
        nn.load(tmp_path)
