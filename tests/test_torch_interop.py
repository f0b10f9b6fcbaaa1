"""Weights to and from PyTorch, and nn.load of torch.save files (only through PyTorch's
weights-only loader).

The round trips need PyTorch, which is never a dependency: they run where it happens to be
installed and are skipped (with the reason) where it is not. The error paths run everywhere.
"""

import builtins
import io
import os
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import tinygrad_ng as tg
from tinygrad_ng import nn

try:
    import torch
except ImportError:
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed (optional): "
                                                       "the round trips with torch are skipped")


def ours():
    """An MLP with batch norm and dropout whose running statistics are not the defaults."""
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.3),
                          nn.Linear(8, 3), nn.Softmax())
    for i in range(3):
        model(tg.Tensor(np.random.default_rng(i).standard_normal((16, 4)) * 2 + 1))
    return model.eval()


def theirs():
    """The same architecture in PyTorch (same layer order, so the same state-dict names)."""
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8),
                               torch.nn.ReLU(), torch.nn.Dropout(0.3), torch.nn.Linear(8, 3),
                               torch.nn.Softmax(dim=1)).eval()


X = np.random.default_rng(7).standard_normal((5, 4)).astype(np.float32)


def run_ours(model):
    with tg.no_grad():
        return model(tg.Tensor(X)).data


def run_theirs(model):
    with torch.no_grad():
        return model(torch.from_numpy(X)).numpy()


@needs_torch
def test_to_torch_state_dict_gives_the_same_outputs_in_pytorch():
    model = ours()
    sd = nn.to_torch_state_dict(model)
    assert all(isinstance(v, torch.Tensor) for v in sd.values())
    assert list(sd) == list(model.state_dict())
    target = theirs()
    target.load_state_dict(sd)  # strict: same names and shapes (num_batches_tracked defaults)
    np.testing.assert_allclose(run_theirs(target), run_ours(model), rtol=1e-5, atol=1e-6)
    sd["0.weight"][0, 0] = 100.0  # copies: the model is untouched
    assert model[0].weight.data[0, 0] != 100.0


@needs_torch
def test_from_torch_state_dict_gives_the_same_outputs_here():
    torch.manual_seed(0)
    source = theirs().train()
    for _ in range(3):  # running statistics that are not the defaults
        source(torch.randn(16, 4) * 2 + 1)
    source.eval()
    model = ours()
    result = nn.from_torch_state_dict(model, source.state_dict())
    assert result == ([], [])
    np.testing.assert_allclose(run_ours(model), run_theirs(source), rtol=1e-5, atol=1e-6)
    assert model[0].weight.dtype == np.float32


@needs_torch
def test_round_trip_through_torch_is_exact():
    model = ours()
    copy = ours()
    copy.load_state_dict({k: np.zeros_like(v) for k, v in copy.state_dict().items()})
    nn.from_torch_state_dict(copy, nn.to_torch_state_dict(model))
    for (name, a), b in zip(model.state_dict().items(), copy.state_dict().values()):
        np.testing.assert_array_equal(a, b, err_msg=name)


@needs_torch
def test_bfloat16_weights_are_read_as_float32():
    layer = nn.Linear(2, 2)
    sd = {k: v.to(torch.bfloat16) for k, v in nn.to_torch_state_dict(layer).items()}
    nn.from_torch_state_dict(layer, sd)
    np.testing.assert_array_equal(layer.weight.data, sd["weight"].float().numpy())


@needs_torch
@pytest.mark.parametrize("zipped", [True, False])
def test_nn_load_reads_torch_save_files(tmp_path, zipped):
    source = theirs()
    path = tmp_path / "weights.pt"
    torch.save({"model": source.state_dict(), "epoch": 7, "losses": [0.5, 0.25]}, path,
               _use_new_zipfile_serialization=zipped)
    checkpoint = nn.load(path)
    assert checkpoint["epoch"] == 7 and checkpoint["losses"] == [0.5, 0.25]
    assert all(isinstance(v, np.ndarray) for v in checkpoint["model"].values())
    model = ours()
    nn.from_torch_state_dict(model, checkpoint["model"])
    np.testing.assert_allclose(run_ours(model), run_theirs(source), rtol=1e-5, atol=1e-6)


class _Planted:
    """An object whose unpickling would run code (here: create a file)."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


@needs_torch
def test_nn_load_refuses_torch_files_with_objects(tmp_path):
    marker = tmp_path / "ran"
    path = tmp_path / "evil.pt"
    torch.save({"weight": torch.ones(2), "payload": _Planted(str(marker))}, path)
    with pytest.raises(ValueError, match="weights-only loader refused it and it is not loaded"):
        nn.load(path)
    assert not marker.exists()


def test_nn_load_of_a_torch_file_without_torch_says_it_needs_pytorch(tmp_path, monkeypatch):
    path = tmp_path / "weights.pt"  # the layout torch.save writes; never unpickled here
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("weights/data.pkl", b"\x80\x02}q\x00.")
        archive.writestr("weights/version", b"3\n")
    real_import = builtins.__import__

    def no_torch(name, *args, **kwargs):
        if name == "torch":
            raise ImportError("No module named 'torch'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_torch)
    with pytest.raises(ImportError, match="was written by torch.save; reading it safely .* "
                                          "needs PyTorch, which is optional: pip install torch"):
        nn.load(path)
    with pytest.raises(ImportError, match="to_torch_state_dict needs PyTorch"):
        nn.to_torch_state_dict(nn.Linear(2, 2))


def test_npz_checkpoints_are_not_mistaken_for_torch_files(tmp_path):
    model = ours()
    nn.save(model, tmp_path / "m.npz")
    loaded = nn.load(tmp_path / "m.npz")
    assert list(loaded) == list(model.state_dict())


def test_a_pickle_file_is_still_refused(tmp_path):
    path = tmp_path / "x.pkl"
    path.write_bytes(b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00K\x01.")
    with pytest.raises(ValueError, match="never loaded"):
        nn.load(path)


# ----------------------------------------------------------------------------- bad state dicts
def arrays_of(model):
    return OrderedDict((k, v.copy()) for k, v in model.state_dict().items())


def test_wrong_names_are_named_with_a_hint():
    sd = arrays_of(ours())
    renamed = OrderedDict((k.replace("0.", "fc1.", 1) if k.startswith("0.") else k, v)
                          for k, v in sd.items())
    model = ours()
    before = model.state_dict()
    with pytest.raises(KeyError, match=r"missing key\(s\) '0.weight', '0.bias'; unexpected "
                                       r"key\(s\) 'fc1.weight', 'fc1.bias'.*same shapes in the "
                                       r"same order"):
        nn.from_torch_state_dict(model, renamed)
    for k, v in model.state_dict().items():  # nothing changed
        np.testing.assert_array_equal(v, before[k])
    result = nn.from_torch_state_dict(model, renamed, strict=False)
    assert result.missing_keys == ["0.weight", "0.bias"]


def test_wrong_shapes_are_named():
    sd = arrays_of(ours())
    sd["4.weight"] = np.zeros((4, 8), np.float32)
    with pytest.raises(ValueError, match=r"shape mismatch for '4.weight': the checkpoint has "
                                         r"\(4, 8\), the model \(3, 8\)"):
        nn.from_torch_state_dict(ours(), sd)


def test_num_batches_tracked_is_skipped_and_bad_values_are_refused():
    sd = arrays_of(ours())
    sd["1.num_batches_tracked"] = np.array(3)
    nn.from_torch_state_dict(ours(), sd)
    sd["1.weight"] = "ones"
    with pytest.raises(TypeError, match="entry '1.weight' is a str; expected a tensor"):
        nn.from_torch_state_dict(ours(), sd)
    with pytest.raises(TypeError, match="expected an nn.Module"):
        nn.from_torch_state_dict(sd, sd)
    with pytest.raises(TypeError, match="expected a state dict"):
        nn.from_torch_state_dict(ours(), [1, 2])


@needs_torch
def test_to_torch_state_dict_of_a_state_dict_and_bad_input():
    sd = nn.to_torch_state_dict({"w": np.arange(3.0), "t": tg.ones(2)})
    assert sd["w"].tolist() == [0.0, 1.0, 2.0] and sd["t"].tolist() == [1.0, 1.0]
    with pytest.raises(TypeError, match="expected an nn.Module or a state dict"):
        nn.to_torch_state_dict([1, 2])


def test_torch_file_detection_is_cheap_and_safe(tmp_path):
    from tinygrad_ng.nn.interop import is_torch_file

    assert not is_torch_file(tmp_path / "missing.pt")
    (tmp_path / "bad.zip").write_bytes(b"PK\x03\x04 not really a zip")
    assert not is_torch_file(tmp_path / "bad.zip")
    buffer = io.BytesIO()
    np.savez(buffer, a=np.ones(2))
    (tmp_path / "a.npz").write_bytes(buffer.getvalue())
    assert not is_torch_file(tmp_path / "a.npz")
    assert os.path.exists(tmp_path / "a.npz")
