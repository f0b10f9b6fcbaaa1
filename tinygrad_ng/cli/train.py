"""``tinygrad-ng train``: train a small fully connected network on a built-in data set.

The network is the course's L-layer model: ``--layers 2,5,2,1`` means n[0] = 2 inputs,
hidden layers of 5 and 2 units with the chosen activation, and an output layer of 1 unit.
A binary task with one output unit is trained with the sigmoid cross-entropy on the logits
(``dZ = A − Y``); otherwise the output layer has one unit per class and the loss is the
softmax cross-entropy (``dZ = Ŷ − Y``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import tinygrad_ng as tg
import tinygrad_ng.functional as F
from tinygrad_ng import data, nn, optim
from tinygrad_ng.tensor import Tensor

from . import UsageError, output_path, writing


# ------------------------------------------------------------------ data sets
@dataclass
class Dataset:
    """A data set split into standardised train and test parts."""

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    classes: int

    @property
    def features(self) -> int:
        return self.X_train.shape[1]


def _digits(n: int | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise UsageError("the digits data set needs scikit-learn: pip install scikit-learn "
                         "(or pip install 'tinygrad_ng[datasets]')") from None
    X, y = load_digits(return_X_y=True)  # 1797 8×8 images, bundled with scikit-learn
    return X.astype(np.float32), y.astype(np.int64)


#: name → (make(n, seed) → (X, y), default number of examples, number of classes)
DATASETS = {
    "moons": (lambda n, seed: data.make_moons(n, noise=0.2, seed=seed), 400, 2),
    "circles": (lambda n, seed: data.make_circles(n, noise=0.1, factor=0.5, seed=seed), 400,
                2),
    "flower": (lambda n, seed: data.make_flower(n, seed=seed), 400, 2),
    "spirals": (lambda n, seed: data.make_spirals(n, classes=3, noise=0.2, seed=seed), 300, 3),
    "digits": (_digits, None, 10),
}
#: Fewest examples per class of a generated data set: with the 20% test share, at least two
#: examples go to the test set and a few of each class to the training set.
MIN_PER_CLASS = 5
#: Most examples of a generated data set (a bound on the memory used).
MAX_SAMPLES = 1_000_000


def load_dataset(name: str, samples: int | None = None, seed: int = 0,
                 test_fraction: float = 0.2) -> Dataset:
    """Make (or load) data set ``name``, split it (seeded) and standardise it with the
    training part's mean and standard deviation."""
    make, default, classes = DATASETS[name]
    if samples is not None and default is None:
        raise UsageError(f"--samples does not apply to {name}, which has a fixed size")
    if samples is not None and not MIN_PER_CLASS * classes <= samples <= MAX_SAMPLES:
        raise UsageError(f"--samples {samples}: {name} needs between "
                         f"{MIN_PER_CLASS * classes} ({MIN_PER_CLASS} per class, so that the "
                         f"test set is not empty) and {MAX_SAMPLES} examples")
    X, y = make(samples or default, seed)
    (X_train, y_train), _, (X_test, y_test) = data.train_dev_test_split(
        X, y, fractions=(1 - test_fraction, 0.0, test_fraction), seed=seed)
    scaler = data.Standardizer().fit(X_train)
    return Dataset(name, scaler.transform(X_train), y_train, scaler.transform(X_test), y_test,
                   classes=int(y.max()) + 1)


# ------------------------------------------------------------------ model, loss, optimiser
ACTIVATIONS = {"relu": (nn.ReLU, "he_normal"), "tanh": (nn.Tanh, "lecun_normal"),
               "sigmoid": (nn.Sigmoid, "xavier_normal")}
#: name → (constructor, default learning rate)
OPTIMIZERS = {
    "sgd": (lambda params, lr: optim.SGD(params, lr=lr), 0.1),
    "momentum": (lambda params, lr: optim.Momentum(params, lr=lr, beta=0.9), 0.1),
    "rmsprop": (lambda params, lr: optim.RMSprop(params, lr=lr), 0.01),
    "adam": (lambda params, lr: optim.Adam(params, lr=lr), 0.01),
}


def build_model(layers: list[int], activation: str = "relu") -> nn.Sequential:
    """Linear layers n[0] → n[1] → … → n[L] with ``activation`` between them (initialised
    for it: He for ReLU, LeCun/"Xavier" for tanh, Glorot for sigmoid); the output layer
    gives logits. The parameters are named W[l] and b[l] as in the course, which is how
    graph drawings label them."""
    act, init = ACTIVATIONS[activation]
    modules: list[nn.Module] = []
    for l, (n_in, n_out) in enumerate(zip(layers, layers[1:]), start=1):
        linear = nn.Linear(n_in, n_out, init=init)
        linear.weight.name, linear.bias.name = f"W[{l}]", f"b[{l}]"
        modules.append(linear)
        if l < len(layers) - 1:
            modules.append(act())
    return nn.Sequential(*modules)


def check_layers(layers: list[int], ds: Dataset) -> None:
    """The first layer must take the data's features, the last give the classes (or 1 unit
    for a binary task)."""
    if layers[0] != ds.features:
        raise UsageError(f"--layers starts with {layers[0]} but {ds.name} has {ds.features} "
                         f"features: use --layers {ds.features},...")
    outputs = (1, 2) if ds.classes == 2 else (ds.classes,)
    if layers[-1] not in outputs:
        want = " or ".join(str(o) for o in outputs)
        raise UsageError(f"--layers ends with {layers[-1]} but {ds.name} has {ds.classes} "
                         f"classes: the output layer needs {want} unit(s)")


def loss_fn(logits: Tensor, y: Tensor | np.ndarray) -> Tensor:
    """The cost J for a batch: sigmoid cross-entropy for one output unit, softmax
    cross-entropy otherwise."""
    labels = y.data if isinstance(y, Tensor) else np.asarray(y)
    if logits.shape[-1] == 1:
        targets = labels.reshape(-1, 1).astype(logits.dtype)
        return F.binary_cross_entropy_with_logits(logits, targets)
    return F.cross_entropy(logits, labels.astype(np.int64))


def predict(model: nn.Module, X: np.ndarray) -> np.ndarray:
    """Class labels: logit > 0 for one output unit, the arg-max otherwise."""
    with tg.no_grad():
        logits = model(Tensor(X)).data
    return (logits[:, 0] > 0).astype(np.int64) if logits.shape[1] == 1 else logits.argmax(1)


def accuracy(model: nn.Module, X: np.ndarray, y: np.ndarray) -> float:
    return float((predict(model, X) == y).mean())


# ------------------------------------------------------------------ training
class Progress:
    """What :func:`fit` shows while it trains.

    On a terminal (standard error is a tty): a tqdm bar over every step (mini-batch), moved
    after each one, with the epoch and the last epoch's cost beside it. Elsewhere (a log
    file, CI), where each redraw of a bar would leave a line of its own: one line per
    epoch on standard output. ``show=False`` shows nothing; ``show=None`` only the bar, on a
    terminal.
    """

    def __init__(self, desc: str, epochs: int, steps: int, show: bool | None = True) -> None:
        from tqdm import tqdm

        terminal = sys.stderr.isatty()
        self.desc, self.epochs = desc, epochs
        self.lines = bool(show) and not terminal
        self.bar = tqdm(total=epochs * steps, desc=desc, unit="step", file=sys.stderr) \
            if show is not False and terminal else None

    def step(self) -> None:
        """One mini-batch done."""
        if self.bar is not None:
            self.bar.update()

    def epoch(self, k: int, cost: float) -> None:
        """Epoch ``k`` (from 1) done, with this cost."""
        text = f"epoch {k}/{self.epochs}, loss {cost:.4f}"
        if self.bar is not None:
            self.bar.set_postfix_str(text)
        elif self.lines:
            print(f"{self.desc}: {text}", flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


@dataclass
class TrainResult:
    """A trained model, its cost per epoch and its final metrics."""

    model: nn.Sequential
    dataset: Dataset
    history: list[float] = field(default_factory=list)
    final_loss: float = float("nan")
    train_accuracy: float = float("nan")
    test_accuracy: float = float("nan")

    def summary(self) -> str:
        return (f"final loss {self.final_loss:.4f} | train accuracy "
                f"{100 * self.train_accuracy:.1f}% | test accuracy "
                f"{100 * self.test_accuracy:.1f}%")


def fit(ds: Dataset, layers: list[int], activation: str = "relu", optimizer: str = "adam",
        lr: float | None = None, epochs: int = 100, batch_size: int = 32, seed: int = 0,
        progress: bool | None = None) -> TrainResult:
    """Train on ``ds`` with mini-batch gradient descent and return the result.

    ``progress``: show the progress (see :class:`Progress`); ``None``: only on a terminal.
    ``lr`` defaults to the optimiser's entry in :data:`OPTIMIZERS`.
    """
    check_layers(layers, ds)
    tg.manual_seed(seed)
    model = build_model(layers, activation)
    make_opt, default_lr = OPTIMIZERS[optimizer]
    opt = make_opt(model.parameters(), default_lr if lr is None else lr)
    loader = data.DataLoader(ds.X_train, ds.y_train, batch_size=batch_size, seed=seed)
    result = TrainResult(model, ds)
    shown = Progress(f"training on {ds.name}", epochs, len(loader), progress)
    for epoch in range(1, epochs + 1):
        total = 0.0
        for xb, yb in loader:
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)
            shown.step()
        result.history.append(total / len(ds.X_train))
        shown.epoch(epoch, result.history[-1])
    shown.close()
    model.eval()
    with tg.no_grad():
        result.final_loss = loss_fn(model(Tensor(ds.X_train)), ds.y_train).item()
    result.train_accuracy = accuracy(model, ds.X_train, ds.y_train)
    result.test_accuracy = accuracy(model, ds.X_test, ds.y_test)
    return result


# ------------------------------------------------------------------ command line
def _integer(minimum: int) -> Callable[[str], int]:
    """An argparse type: an integer of at least ``minimum`` (0 or 1)."""
    kind = "positive" if minimum == 1 else "non-negative"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"expected a {kind} integer, got {text!r}")
        return value
    return parse


positive_int = _integer(1)
#: Seeds: NumPy takes any integer >= 0.
non_negative_int = _integer(0)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _layers(text: str) -> list[int]:
    try:
        sizes = [int(s) for s in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected layer sizes like 2,5,1, got {text!r}") \
            from None
    if len(sizes) < 2 or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"expected at least two positive layer sizes like "
                                         f"2,5,1, got {text!r}")
    return sizes


def add_training_arguments(p: argparse.ArgumentParser, epochs: int) -> None:
    """The options ``train`` and ``demo`` share."""
    p.add_argument("--epochs", type=positive_int, default=epochs,
                   help=f"passes over the training set (default {epochs})")
    p.add_argument("--batch-size", type=positive_int, default=32,
                   help="mini-batch size m (default 32)")
    p.add_argument("--seed", type=non_negative_int, default=0,
                   help="seed for data, init and shuffling (an integer >= 0)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", choices=sorted(DATASETS), default="moons",
                   help="data set (default moons; digits needs scikit-learn)")
    p.add_argument("--samples", type=positive_int, default=None,
                   help="number of examples of a generated data set")
    p.add_argument("--layers", type=_layers, default=None,
                   help="layer sizes n[0],…,n[L] (default: features,16,16,outputs)")
    p.add_argument("--activation", choices=sorted(ACTIVATIONS), default="relu",
                   help="hidden-layer activation (default relu)")
    p.add_argument("--optimizer", choices=list(OPTIMIZERS), default="adam",
                   help="optimiser (default adam)")
    p.add_argument("--lr", type=_positive_float, default=None,
                   help="learning rate α (default: 0.1 for sgd/momentum, 0.01 otherwise)")
    add_training_arguments(p, epochs=100)
    p.add_argument("--save", metavar="PATH", help="save the trained weights (.npz)")
    p.add_argument("--plot", metavar="PATH",
                   help="save the loss curve (.png unless PATH ends in another format "
                        "matplotlib writes, such as .pdf or .svg; needs matplotlib)")


def plot_path(text: str) -> Path:
    """Where ``--plot`` writes: ``text``, with ``.png`` added when it has no extension
    (matplotlib's choice, made visible); an extension matplotlib cannot write is refused."""
    from matplotlib.backend_bases import FigureCanvasBase

    path = Path(text)
    if not path.suffix:
        path = path.with_name(path.name + ".png")
    formats = FigureCanvasBase.get_supported_filetypes()
    if path.suffix[1:].lower() not in formats:
        raise UsageError(f"--plot {text}: unknown extension {path.suffix!r}; use one of "
                         f"{', '.join('.' + f for f in sorted(formats))}")
    return output_path(path, "--plot")


def require_matplotlib(option: str) -> None:
    try:
        import matplotlib
    except ImportError:
        raise UsageError(f"{option} needs matplotlib: pip install matplotlib (or pip install "
                         "'tinygrad_ng[plots]')") from None
    matplotlib.use("Agg")  # files only, no window


def plot_loss(history: list[float], path: Path, title: str) -> None:
    """Save the cost per epoch as a PNG (matplotlib must be importable)."""
    import matplotlib.pyplot as plt

    from tinygrad_ng.viz import plot_history

    ax = plot_history(history, xlabel="epoch", ylabel="cost J", title=title, path=path)
    plt.close(ax.figure)


def default_layers(ds: Dataset) -> list[int]:
    return [ds.features, 16, 16, 1 if ds.classes == 2 else ds.classes]


def run(args: argparse.Namespace) -> int:
    if args.plot:
        require_matplotlib("--plot")
    ds = load_dataset(args.dataset, args.samples, args.seed)
    layers = args.layers or default_layers(ds)
    check_layers(layers, ds)
    save_to = output_path(args.save, "--save") if args.save else None
    plot_to = plot_path(args.plot) if args.plot else None
    lr = OPTIMIZERS[args.optimizer][1] if args.lr is None else args.lr
    loss_name = "sigmoid cross-entropy" if layers[-1] == 1 else "softmax cross-entropy"
    print(f"{ds.name}: {len(ds.X_train)} training / {len(ds.X_test)} test examples, "
          f"{ds.features} features, {ds.classes} classes")
    print(f"model: {' → '.join(map(str, layers))} ({args.activation}), {loss_name}, "
          f"{args.optimizer} (lr {lr:g}), {args.epochs} epochs of batches of {args.batch_size}")
    result = fit(ds, layers, args.activation, args.optimizer, lr, args.epochs,
                 args.batch_size, args.seed, progress=not args.no_progress)
    print(result.summary())
    if save_to:
        with writing(save_to, "--save"):
            nn.save(result.model, save_to)
        print(f"saved the weights to {save_to}")
    if plot_to:
        with writing(plot_to, "--plot"):
            plot_loss(result.history, plot_to, f"{ds.name}: cost per epoch")
        print(f"saved the loss curve to {plot_to}")
    return 0
