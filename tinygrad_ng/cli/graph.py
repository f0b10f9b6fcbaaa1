"""``tinygrad-ng graph EXPR --var a=5 …``: build, backpropagate and draw an expression.

The expression is read by the safe parser in :mod:`tinygrad_ng.cli.expr` (never ``eval``),
so ``tinygrad-ng graph "3*(a + b*c)" --var a=5 --var b=3 --var c=2`` prints J = 33 and
dJ/da = 3, dJ/db = 6, dJ/dc = 9, and draws the graph with every node named after its
sub-expression.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from . import CommandFailed, UsageError
from .expr import FUNCTIONS, ExpressionError, Result, evaluate

#: Output formats by file extension (.dot/.gv write the DOT source, which needs no Graphviz).
EXTENSIONS = (".svg", ".png", ".pdf", ".dot", ".gv")


def parse_var(text: str) -> tuple[str, np.ndarray]:
    """``"a=5"`` → ("a", 5.0); ``"x=1,2,3"`` → ("x", array([1., 2., 3.]))."""
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise UsageError(f"--var {text!r}: expected NAME=VALUE, e.g. --var a=5 or --var "
                         "x=1,2,3")
    try:
        numbers = [float(v) for v in value.split(",")]
    except ValueError:
        raise UsageError(f"--var {text!r}: {value!r} is not a number or a comma-separated list "
                         "of numbers") from None
    if not all(np.isfinite(numbers)):
        raise UsageError(f"--var {text!r}: the value must be finite")
    return name, np.array(numbers[0] if len(numbers) == 1 else numbers, dtype=np.float64)


def _fmt(a: np.ndarray | None) -> str:
    if a is None:
        return "0 (not used)"
    a = np.asarray(a) + 0.0  # + 0.0 turns -0 into 0
    if a.ndim == 0:
        return f"{a.item():.6g}"
    return np.array2string(a, separator=", ", formatter={"float_kind": lambda x: f"{x:.6g}"})


def report(result: Result) -> str:
    """The forward pass (one step per node) and every gradient, as the course lists them."""
    J = result.name
    lines = ["forward:"]
    lines += [f"  {s.name} = {s.definition} = {_fmt(s.tensor.data)}" for s in result.steps]
    if not result.steps:
        lines.append(f"  {J} = {_fmt(result.output.data)}")
    lines.append("backward:")
    given = [(s.name, s.tensor) for s in reversed(result.steps) if s.tensor is not result.output]
    given += list(result.variables.items())
    lines += [f"  d{J}/d{name} = {_fmt(t.grad)}" for name, t in given]
    bad = [n for n, t in given if t.grad is not None and not np.all(np.isfinite(t.grad))]
    if bad:
        lines.append(f"note: d{J}/d{bad[0]} is not finite: {J} is not differentiable there")
    return "\n".join(lines)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("expression",
                   help="e.g. '3*(a + b*c)' or 'u = b*c; v = a + u; J = 3*v'; functions: "
                        + ", ".join(sorted(FUNCTIONS)))
    p.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                   help="an input variable: a number or a comma-separated list (repeatable)")
    p.add_argument("-o", "--output", default="graph.svg",
                   help=f"drawing to write; format by extension: {', '.join(EXTENSIONS)} "
                        "(default graph.svg)")
    p.add_argument("--dot", action="store_true",
                   help="print the DOT source instead of writing a drawing (the value and "
                        "gradients then go to stderr)")
    p.add_argument("--rankdir", choices=("LR", "TB"), default="LR",
                   help="left to right (default) or top to bottom")
    p.add_argument("--check", action="store_true",
                   help="colour each variable by a finite-difference gradient check")


def run(args: argparse.Namespace) -> int:
    variables: dict[str, np.ndarray] = {}
    for text in args.var:
        name, value = parse_var(text)
        if name in variables:
            raise UsageError(f"--var {name} is given twice")
        variables[name] = value
    out = Path(args.output)
    if not args.dot and out.suffix.lower() not in EXTENSIONS:
        raise UsageError(f"-o {args.output}: unknown extension {out.suffix!r}; use one of "
                         f"{', '.join(EXTENSIONS)}")
    try:
        result = evaluate(args.expression, variables)
    except ExpressionError as e:
        raise UsageError(f"bad expression: {e}") from None
    root = result.output
    if root.size != 1:
        raise UsageError(f"the expression's value has shape {root.shape}; reduce it to one "
                         "number with sum(...) or mean(...) to backpropagate")
    for step in result.steps:  # in forward order: the first step that left the reals
        if not np.all(np.isfinite(step.tensor.data)):
            raise UsageError(f"{step.name} = {step.definition} = {_fmt(step.tensor.data)} for "
                             "these values (outside the function's domain?)")
    with np.errstate(all="ignore"):  # an infinite gradient is reported, not warned about
        root.backward(retain_graph=True, retain_grads=True)
    from tinygrad_ng.viz import draw_graph, save

    with np.errstate(all="ignore"):
        drawing = draw_graph(root, rankdir=args.rankdir, check=args.check,
                             title=args.expression if "=" in args.expression
                             else f"{result.name} = {args.expression}")
    if args.dot:  # stdout stays valid DOT; the numbers go to stderr
        print(report(result), file=sys.stderr)
        sys.stdout.write(drawing.source)
        return 0
    print(report(result))
    try:
        print(f"wrote {save(drawing, out)}")
    except RuntimeError as e:  # no Graphviz 'dot' program to render with
        raise CommandFailed(f"{e} (or write the DOT source with -o {out.stem}.dot)") from None
    return 0
