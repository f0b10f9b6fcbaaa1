"""Train a small MLP on one of the built-in 2-D datasets, with a progress bar.

    python examples/train_mlp.py                          # spirals, Adam, batch norm, dropout
    python examples/train_mlp.py --dataset flower --hidden 4 --activation tanh \\
        --optimizer sgd --lr 1.2 --no-batchnorm --dropout 0 --batch-size 400 --epochs 2000
                                          # the course's planar net: about 90% accuracy

Each epoch the bar shows the training cost and the train/dev accuracy; at the end the loss
curve is written to a PNG (when matplotlib is installed) and, with ``--save``, the model and
optimiser to an ``.npz`` checkpoint.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import numpy as np
from tqdm import tqdm

import tinygrad_ng as tg
from tinygrad_ng import data, nn, optim

DATASETS = {
    "flower": lambda seed: data.make_flower(400, seed=seed),
    "moons": lambda seed: data.make_moons(400, noise=0.15, seed=seed),
    "circles": lambda seed: data.make_circles(400, noise=0.08, factor=0.5, seed=seed),
    "spirals": lambda seed: data.make_spirals(600, classes=3, noise=0.2, seed=seed),
}
OPTIMIZERS = {"sgd": optim.SGD, "momentum": optim.Momentum, "rmsprop": optim.RMSprop,
              "adam": optim.Adam, "adamw": optim.AdamW}


def build_model(n_in: int, hidden: Sequence[int], n_classes: int, batchnorm: bool,
                dropout: float, activation: str = "relu") -> nn.Sequential:
    """Linear → [BatchNorm1d] → ReLU or tanh → [Dropout] per hidden layer, then a linear
    output layer giving one score per class (softmax lives in the loss). Weights start with
    He initialisation for ReLU and the course's "Xavier" (variance 1/n[l-1]) for tanh."""
    init, act = ("he_normal", nn.ReLU) if activation == "relu" else ("lecun_normal", nn.Tanh)
    layers: list[nn.Module] = []
    for width in hidden:
        layers.append(nn.Linear(n_in, width, init=init))
        if batchnorm:
            layers.append(nn.BatchNorm1d(width))
        layers.append(act())
        if dropout:
            layers.append(nn.Dropout(dropout))
        n_in = width
    layers.append(nn.Linear(n_in, n_classes))
    return nn.Sequential(*layers)


def accuracy(model: nn.Module, X: np.ndarray, y: np.ndarray) -> float:
    model.eval()
    with tg.no_grad():
        pred = model(X).data.argmax(axis=1)
    model.train()
    return float((pred == y).mean())


def plot_losses(losses: list[float], path: str) -> bool:
    """Write the loss curve to ``path``; False when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(np.arange(1, len(losses) + 1), losses)
    ax.set(xlabel="epoch", ylabel="training cost J", title="Loss curve")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def main(argv: Sequence[str] | None = None) -> dict[str, float]:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dataset", choices=sorted(DATASETS), default="spirals")
    p.add_argument("--hidden", type=int, nargs="+", default=[64, 64],
                   help="hidden layer widths (default: 64 64)")
    p.add_argument("--activation", choices=["relu", "tanh"], default="relu")
    p.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default="adam")
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--epochs", type=int, default=80)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--no-batchnorm", dest="batchnorm", action="store_false")
    p.add_argument("--decay", type=float, default=0.0,
                   help="inverse-time learning-rate decay rate per epoch (default: none)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--plot", default="loss_curve.png", help="where to write the loss curve")
    p.add_argument("--save", default=None, help="write model + optimiser checkpoint (.npz)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    args = p.parse_args(argv)

    tg.manual_seed(args.seed)
    X, y = DATASETS[args.dataset](args.seed)
    (X_train, y_train), (X_dev, y_dev), _ = data.train_dev_test_split(
        X, y, (0.8, 0.2, 0.0), seed=args.seed)
    scaler = data.Standardizer().fit(X_train)  # μ, σ from the training set only
    X_train, X_dev = scaler.transform(X_train), scaler.transform(X_dev)

    n_classes = int(y.max()) + 1
    model = build_model(X.shape[1], args.hidden, n_classes, args.batchnorm, args.dropout,
                        args.activation)
    opt = OPTIMIZERS[args.optimizer](model.parameters(), lr=args.lr)
    sched = optim.lr_scheduler.InverseTimeDecay(opt, decay_rate=args.decay)
    loss_fn = nn.CrossEntropyLoss()
    loader = data.DataLoader(X_train, y_train, batch_size=args.batch_size, seed=args.seed)
    if not args.quiet:
        print(model)

    losses: list[float] = []
    bar = tqdm(range(args.epochs), desc=f"{args.dataset}", unit="epoch", disable=args.quiet)
    for _ in bar:
        total = 0.0
        for xb, yb in loader:
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item() * len(yb)
        sched.step()
        losses.append(total / len(y_train))
        bar.set_postfix(loss=f"{losses[-1]:.4f}", acc=f"{accuracy(model, X_train, y_train):.3f}",
                        dev=f"{accuracy(model, X_dev, y_dev):.3f}")

    result = {"loss": losses[-1], "train_accuracy": accuracy(model, X_train, y_train),
              "dev_accuracy": accuracy(model, X_dev, y_dev)}
    if not args.quiet:
        print(f"train accuracy {result['train_accuracy']:.3f}, "
              f"dev accuracy {result['dev_accuracy']:.3f}")
    if plot_losses(losses, args.plot) and not args.quiet:
        print(f"loss curve written to {args.plot}")
    if args.save:
        nn.save({"model": model, "optimizer": opt.state_dict(), "epoch": args.epochs},
                args.save)
    return result


if __name__ == "__main__":
    main()
