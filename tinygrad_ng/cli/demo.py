"""``tinygrad-ng demo``: the course's first graph, then a small network trained on moons.

It prints J = 3(a + bc) forward and backward, trains a 2 → 16 → 16 → 1 ReLU network on the
two-moons data set with Adam (progress bar), prints the accuracies and writes into the
output folder (default ``out/demo``):

- ``course_graph.svg``: the graph of J = 3(a + bc) with values, gradients and local
  derivatives;
- ``model_graph.svg``: the graph of the trained network's cost on a few examples, grouped
  by layer;
- ``loss.png`` and ``decision_boundary.png`` when matplotlib is installed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tinygrad_ng.tensor import Tensor

from . import UsageError, output_path, train, writing


def course_example() -> str:
    """J = 3(a + bc) with a = 5, b = 3, c = 2, forward and backward, as two lines."""
    a = Tensor(5.0, requires_grad=True, name="a")
    b = Tensor(3.0, requires_grad=True, name="b")
    c = Tensor(2.0, requires_grad=True, name="c")
    u = b * c
    v = a + u
    J = 3 * v
    J.backward()
    return (f"u = bc = {u.item():g}, v = a + u = {v.item():g}, J = 3v = {J.item():g}\n"
            f"dJ/da = {a.grad:g}, dJ/db = {b.grad:g}, dJ/dc = {c.grad:g}")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="out/demo", help="output folder (default out/demo)")
    train.add_training_arguments(p, epochs=60)


def _draw(root: Tensor, path: Path, title: str) -> str:
    """Write the drawing of ``root``'s graph; without Graphviz, its DOT source instead."""
    from tinygrad_ng.viz import draw_graph, save

    drawing = draw_graph(root, title=title)
    with writing(path, "--out"):
        try:
            return str(save(drawing, path))
        except RuntimeError as e:  # no 'dot' program: keep the source, say how to render it
            dot = save(drawing, path.with_suffix(".dot"))
            return f"{dot} (DOT source; {e})"


def run(args: argparse.Namespace) -> int:
    from tinygrad_ng import viz

    out = output_path(args.out, "--out", folder=True)
    print("The course's computation graph J = 3(a + bc) with a = 5, b = 3, c = 2:")
    print(course_example())
    written = [_draw(viz.course_example(), out / "course_graph.svg",
                     "J = 3(a + b·c): forward values and gradients")]

    print("\nTraining a 2 → 16 → 16 → 1 ReLU network on two moons with Adam:")
    ds = train.load_dataset("moons", seed=args.seed)
    result = train.fit(ds, train.default_layers(ds), epochs=args.epochs,
                       batch_size=args.batch_size, seed=args.seed,
                       progress=not args.no_progress)
    print(result.summary())

    sample = Tensor(ds.X_train[:4], name="X")
    cost = train.loss_fn(result.model(sample), ds.y_train[:4])
    cost.name = "J"
    result.model.zero_grad()  # the drawing's gradients are this graph's, not training's too
    cost.backward(retain_graph=True, retain_grads=True)
    written.append(_draw(cost, out / "model_graph.svg", "the network's cost on 4 examples"))
    try:
        train.require_matplotlib("plots")
    except UsageError as e:
        print(f"skipping the plots: {e}")
    else:
        import matplotlib.pyplot as plt

        with writing(out, "--out"):
            train.plot_loss(result.history, out / "loss.png", "two moons: cost per epoch")
            ax = viz.plot_decision_boundary(result.model, ds.X_test, ds.y_test,
                                            title=f"test set, accuracy "
                                                  f"{100 * result.test_accuracy:.1f}%",
                                            path=out / "decision_boundary.png")
        plt.close(ax.figure)
        written += [str(out / "loss.png"), str(out / "decision_boundary.png")]
    print(f"\nWrote into {out}/:")
    print("\n".join(f"  {w}" for w in written))
    return 0
