# %% [markdown]
# # 19. Leaving for production: ONNX export and PyTorch weights
#
# A model trained here does not have to stay here. When it has to run in a service, on a
# phone or on a GPU, it moves to a production engine — without retraining:
#
# * `tg.onnx.export(model, example_input, "model.onnx")` writes a standard **ONNX** file,
#   which ONNX Runtime (and TensorRT, OpenVINO, phone runtimes, …) runs;
# * `nn.to_torch_state_dict(model)` hands the weights to **PyTorch**, whose layers have the
#   same parameter names and shapes.
#
# We train a small digit classifier, export it, run the file in ONNX Runtime, check that it
# computes exactly what we compute, and time both. (Needs `pip install "tinygrad_ng[onnx]"`.)

# %%
import io
import time

import numpy as np
import onnx
import onnxruntime as ort
from sklearn.datasets import load_digits

import tinygrad_ng as tg
import tinygrad_ng.functional as F
from tinygrad_ng import nn, optim
from tinygrad_ng.data import DataLoader, Standardizer, train_dev_test_split

digits = load_digits()
(X_tr, y_tr), (X_dev, y_dev), (X_te, y_te) = train_dev_test_split(
    digits.data.astype(np.float32), digits.target, fractions=(0.7, 0.15, 0.15), seed=0)
scaler = Standardizer().fit(X_tr)
X_tr, X_dev, X_te = (scaler.transform(v).astype(np.float32) for v in (X_tr, X_dev, X_te))
print(f"train {X_tr.shape}, dev {X_dev.shape}, test {X_te.shape}")

# %% [markdown]
# ## The classifier
#
# LINEAR → BATCHNORM → RELU → DROPOUT, twice, then a linear layer giving the ten class
# scores; trained with Adam on the cross-entropy for a few epochs.

# %%
tg.manual_seed(0)
model = nn.Sequential(
    nn.Linear(64, 64, bias=False), nn.BatchNorm1d(64), nn.ReLU(), nn.Dropout(0.2),
    nn.Linear(64, 32, bias=False), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.2),
    nn.Linear(32, 10))
opt = optim.Adam(model.parameters(), lr=0.01)
for epoch in range(8):
    for xb, yb in DataLoader(X_tr, y_tr, batch_size=64, seed=epoch):
        opt.zero_grad()
        F.cross_entropy(model(xb), yb).backward()
        opt.step()
model.eval()


def accuracy(probs, y):
    return float((probs.argmax(axis=1) == y).mean())


with tg.no_grad():
    dev_acc = accuracy(model(tg.Tensor(X_dev)).data, y_dev)
print(f"dev accuracy {dev_acc:.1%}")

# %% [markdown]
# ## Export
#
# For deployment we want probabilities, so the exported model is the classifier followed by
# a softmax. Export traces its forward once on an example batch (in evaluation mode: batch
# norm uses its running averages, dropout does nothing), maps each op to ONNX ops, checks
# the result with `onnx.checker`, and writes the file. The batch axis stays dynamic: the
# file accepts any number of images.

# %%
deployed = nn.Sequential(model, nn.Softmax())
proto = tg.onnx.export(deployed, X_dev[:8], "digits.onnx", input_names=["pixels"],
                       output_names=["probs"])
for node in proto.graph.node:
    print(f"{node.op_type:20s} {node.doc_string:22s} inputs {list(node.input)}")
print("weights:", [t.name for t in proto.graph.initializer][:5], "...")
batch_dim = proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param
print("input batch axis:", batch_dim)

# %% [markdown]
# Each `Linear` became a `Gemm` (`X·Wᵀ`), each batch norm one `BatchNormalization` with the
# running statistics, dropout vanished, and the weights are stored under their state-dict
# names (`0.0.weight`: layer 0 of the classifier, itself layer 0 of `deployed`).
#
# ## Run it in ONNX Runtime
#
# ONNX Runtime knows nothing of this library: it reads the file and runs it. Its
# probabilities agree with ours to float32 rounding, and so do the predicted digits.

# %%
session = ort.InferenceSession("digits.onnx", providers=["CPUExecutionProvider"])
probs_ort = session.run(["probs"], {"pixels": X_te})[0]
with tg.no_grad():
    probs_ours = deployed(tg.Tensor(X_te)).data
max_diff = np.abs(probs_ort - probs_ours).max()
same_predictions = bool((probs_ort.argmax(axis=1) == probs_ours.argmax(axis=1)).all())
test_acc = accuracy(probs_ort, y_te)
print(f"largest difference {max_diff:.1e}; same predictions: {same_predictions}; "
      f"test accuracy in ONNX Runtime {test_acc:.1%}")

# %% [markdown]
# ## Time both
#
# The whole test set at once, and one image at a time (what a service answering single
# requests does). ONNX Runtime is an engine built for inference: no graph recording, no
# Python per op.

# %%
def per_call(fn, repeat=200):
    fn()
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def ours_on(x):
    with tg.no_grad():
        return deployed(tg.Tensor(x)).data


one = X_te[:1]
times = {
    ("test set", "tinygrad_ng"): per_call(lambda: ours_on(X_te)),
    ("test set", "ONNX Runtime"): per_call(lambda: session.run(None, {"pixels": X_te})),
    ("one image", "tinygrad_ng"): per_call(lambda: ours_on(one)),
    ("one image", "ONNX Runtime"): per_call(lambda: session.run(None, {"pixels": one})),
}
for (what, engine), seconds in times.items():
    print(f"{what:10s} {engine:13s} {seconds * 1e6:8.0f} µs per call")

# %% [markdown]
# ## What a trace cannot see
#
# A trace records tensor ops, nothing else: a Python `if`, or a size read from the input,
# is baked into the file. Export therefore traces a second time with the batch one larger
# and refuses when the two graphs differ:

# %%
def centred_scores(x):  # a model can be any function of tensors
    z = model(x)
    return z - z.sum(axis=0) / x.shape[0]  # x.shape[0] becomes a constant


try:
    tg.onnx.export(centred_scores, X_dev[:8], io.BytesIO())
    refused = False
except tg.onnx.ExportError as e:
    refused = True
    print(str(e)[:230], "…")

# %% [markdown]
# `z.mean(axis=0)` is a tensor op and exports fine. Your own `Function` exports once you
# register how it maps to ONNX ops:

# %%
class Swish(tg.Function):  # x·σ(x), a user-defined op
    @staticmethod
    def forward(ctx, x):
        return x * (0.5 * np.tanh(0.5 * x) + 0.5)  # σ(x) without overflow


@tg.onnx.register(Swish)
def swish_to_onnx(g, ctx, x):
    return g.op("Mul", x, g.op("Sigmoid", x))


class SwishLayer(nn.Module):
    def forward(self, x):
        return Swish.apply(x)


net = nn.Sequential(nn.Linear(64, 16), SwishLayer(), nn.Linear(16, 10)).eval()
swish_proto = tg.onnx.export(net, X_dev[:4], "swish.onnx")
with tg.no_grad():
    swish_ok = np.allclose(ort.InferenceSession("swish.onnx").run(None, {"input": X_te})[0],
                           net(tg.Tensor(X_te)).data, rtol=1e-5, atol=1e-6)
print("custom op in ONNX Runtime matches:", swish_ok)

# %% [markdown]
# ## PyTorch weights
#
# Our layers use PyTorch's names and shapes, so the same architecture in PyTorch takes the
# state dict as it is (`nn.from_torch_state_dict` goes the other way, and `nn.load` reads a
# `torch.save` file through PyTorch's weights-only loader). PyTorch is optional; this cell
# only runs where it is installed.

# %%
try:
    import torch
except ImportError:
    torch = None
if torch is not None:
    twin = torch.nn.Sequential(
        torch.nn.Linear(64, 64, bias=False), torch.nn.BatchNorm1d(64), torch.nn.ReLU(),
        torch.nn.Dropout(0.2), torch.nn.Linear(64, 32, bias=False), torch.nn.BatchNorm1d(32),
        torch.nn.ReLU(), torch.nn.Dropout(0.2), torch.nn.Linear(32, 10)).eval()
    twin.load_state_dict(nn.to_torch_state_dict(model))
    with torch.no_grad():
        torch_probs = torch.softmax(twin(torch.from_numpy(X_te)), dim=1).numpy()
    print("PyTorch agrees:", np.allclose(torch_probs, probs_ours, rtol=1e-5, atol=1e-6))
else:
    print("PyTorch is not installed: skipped")

# %% [markdown]
# ## Summary
#
# * `tg.onnx.export` traces the forward once (in eval mode), writes standard ONNX ops with
#   the weights as named initializers, keeps the batch axis dynamic and checks the file.
# * ONNX Runtime computes the same probabilities, and it is built for serving.
# * Tracing bakes in Python control flow and sizes read from the input; export detects it
#   when the batch size changes the graph, and says where.

# %%
assert onnx.checker.check_model(proto, full_check=True) is None
assert batch_dim == "batch"
assert np.allclose(probs_ort, probs_ours, rtol=1e-5, atol=1e-6) and same_predictions
assert test_acc >= 0.9, test_acc
assert refused and swish_ok
assert all(seconds > 0 for seconds in times.values())
print(f"lesson checks passed: ONNX Runtime test accuracy {test_acc:.1%}, "
      f"largest difference {max_diff:.1e}")
