"""``tinygrad-ng graph EXPR --var a=5 …``: build, backpropagate and draw an expression.

The expression is read by the safe parser in :mod:`tinygrad_ng.cli.expr` (never ``eval``),
so ``tinygrad-ng graph "3*(a + b*c)" --var a=5 --var b=3 --var c=2`` prints J = 33 and
dJ/da = 3, dJ/db = 6, dJ/dc = 9, and draws the graph with every node named after its
sub-expression. An expression may start with a minus sign (``tinygrad-ng graph "-a*b" …``):
:func:`expression_last` tells it apart from the options before argparse sees it.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np

from . import CommandFailed, UsageError, output_path, writing
from .expr import FUNCTIONS, ExpressionError, Result, evaluate, normalize_name

#: Output formats by file extension (.dot/.gv write the DOT source, which needs no Graphviz).
EXTENSIONS = (".svg", ".png", ".pdf", ".dot", ".gv")
#: graph's options that take a value, and those that do not (see :func:`add_arguments`).
VALUE_OPTIONS = ("--var", "-o", "--output", "--rankdir")
FLAGS = ("--dot", "--check", "-h", "--help")


def _option(arg: str) -> str | None:
    """The option ``arg`` names (argparse's rules: ``--opt=value``, ``-ovalue``, unique
    prefixes of long options), or None when it is not one of graph's options."""
    known = VALUE_OPTIONS + FLAGS
    name = arg.partition("=")[0] if arg.startswith("--") else arg
    if name in known:
        return name
    if arg.startswith("--"):
        matches = [o for o in known if o.startswith(name)]
        return matches[0] if len(matches) == 1 else None
    return arg[:2] if arg[:2] in VALUE_OPTIONS else None


def expression_last(args: list[str]) -> list[str]:
    """graph's arguments reordered as ``OPTIONS -- EXPRESSION``, so that an expression
    starting with ``-`` (``-a*b``) is not taken for an unknown option.

    The expression is the argument after a ``--``, else the first argument that is neither
    one of graph's options nor an option's value (and does not start with ``--``: a
    misspelt long option stays an error). Options may come before and after it. Any
    further such argument goes after the expression, for argparse to report.
    """
    options: list[str] = []
    positionals: list[str] = []
    rest = iter(args)
    for arg in rest:
        option = _option(arg)
        if arg == "--":
            positionals.extend(itertools.islice(rest, 1))
        elif option is not None:
            options.append(arg)
            inline = "=" in arg if arg.startswith("--") else len(arg) > 2
            if option in VALUE_OPTIONS and not inline:
                options.extend(itertools.islice(rest, 1))  # its value, whatever it looks like
        elif arg.startswith("--"):
            options.append(arg)
        else:
            positionals.append(arg)
    return [*options, "--", *positionals] if positionals else options


def parse_var(text: str) -> tuple[str, np.ndarray]:
    """``"a=5"`` → ("a", 5.0); ``"x=1,2,3"`` → ("x", array([1., 2., 3.]))."""
    name, sep, value = text.partition("=")
    name = normalize_name(name.strip())
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
                   help="e.g. '3*(a + b*c)', '-a*b' or 'u = b*c; v = a + u; J = 3*v' (the "
                        "last statement is the output); functions: "
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
    notes = []
    root = result.output
    if root.size != 1:
        raise UsageError(f"the expression's value has shape {root.shape}; reduce it to one "
                         "number with sum(...) or mean(...) to backpropagate")
    for step in result.steps:  # in forward order: the first step that left the reals
        if not np.all(np.isfinite(step.tensor.data)):
            raise UsageError(f"{step.name} = {step.definition} = {_fmt(step.tensor.data)} for "
                             "these values (outside the function's domain?)")
    check = args.check
    if check and root.is_leaf:
        check = False
        notes.append(f"note: --check skipped: {result.name} is the variable {root.name} "
                     "itself, there is no operation to check")
    if not args.dot:
        output_path(out, "-o")
    with np.errstate(all="ignore"):  # an infinite gradient is reported, not warned about
        root.backward(retain_graph=True, retain_grads=True)
    from tinygrad_ng.viz import draw_graph, save

    with np.errstate(all="ignore"):
        drawing = draw_graph(root, rankdir=args.rankdir, check=check,
                             title=args.expression if "=" in args.expression
                             else f"{result.name} = {args.expression}")
    text = "\n".join([report(result), *notes])
    if args.dot:  # stdout stays valid DOT; the numbers go to stderr
        print(text, file=sys.stderr)
        sys.stdout.write(drawing.source)
        return 0
    print(text)
    try:
        with writing(out, "-o"):
            print(f"wrote {save(drawing, out)}")
    except RuntimeError as e:  # no Graphviz 'dot' program to render with
        raise CommandFailed(f"{e} (or write the DOT source with -o {out.stem}.dot)") from None
    return 0
