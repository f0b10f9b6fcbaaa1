"""``tinygrad-ng`` / ``python -m tinygrad_ng``: the command-line front door.

Subcommands::

    tinygrad-ng demo [--out out/demo] [--epochs N]
    tinygrad-ng graph "3*(a + b*c)" --var a=5 --var b=3 --var c=2 -o graph.svg
    tinygrad-ng train --dataset moons --layers 2,16,16,1 --optimizer adam --epochs 100
    tinygrad-ng gradcheck

Exit codes: 0 success, 1 a failed check (or a drawing that could not be rendered),
2 bad usage, reported in one line without a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .cli import CommandFailed, UsageError, demo, graph, train

PROG = "tinygrad-ng"
EPILOG = ("examples:\n"
          "  tinygrad-ng demo --epochs 20\n"
          "  tinygrad-ng graph \"u = b*c; v = a + u; J = 3*v\" --var a=5 --var b=3 --var c=2\n"
          "  tinygrad-ng train --dataset spirals --layers 2,32,3 --optimizer adam\n"
          "  tinygrad-ng gradcheck")


class _Parser(argparse.ArgumentParser):
    """argparse with one-line error messages (exit code 2, as argparse's own)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _gradcheck_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--op", action="append", metavar="NAME",
                   help="check only this op (repeatable); default: every op")
    p.add_argument("--seed", type=train.non_negative_int, default=0,
                   help="seed for the random inputs")


def _run_gradcheck(args: argparse.Namespace) -> int:
    from .cli import opcheck

    known = {op for op, _ in opcheck.library_ops()}
    unknown = sorted(set(args.op or ()) - known)
    if unknown:
        raise UsageError(f"unknown op(s) {', '.join(unknown)}; the ops are "
                         f"{', '.join(sorted(known))}")
    rows = opcheck.run(args.seed, args.op)
    print(opcheck.table(rows))
    counts = {s: sum(r.status == s for r in rows) for s in ("pass", "FAIL", "not covered")}
    print(f"\ngradcheck: {counts['pass']} ops passed, {counts['FAIL']} failed, "
          f"{counts['not covered']} not covered")
    return 0 if counts["pass"] == len(rows) else 1


COMMANDS = {
    "demo": ("train a small network, print the course's example, write drawings and plots",
             demo.add_arguments, demo.run),
    "graph": ("build, backpropagate and draw an arithmetic expression",
              graph.add_arguments, graph.run),
    "train": ("train a fully connected network on a built-in data set",
              train.add_arguments, train.run),
    "gradcheck": ("check every built-in op against finite differences",
                  _gradcheck_arguments, _run_gradcheck),
}


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="tinygrad_ng: a small autograd engine that draws "
                     "its graphs.", epilog=EPILOG,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    from . import __version__

    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (summary, add_arguments, _) in COMMANDS.items():
        add_arguments(sub.add_parser(name, help=summary, description=summary))
    return parser


def _expression_last(argv: list[str]) -> list[str]:
    """``argv`` with graph's expression moved after a ``--`` (it may start with '-')."""
    command = next((i for i, arg in enumerate(argv) if not arg.startswith("-")), None)
    if command is None or argv[command] != "graph":
        return argv
    return argv[:command + 1] + graph.expression_last(argv[command + 1:])


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line on ``argv`` (default ``sys.argv[1:]``) and return the exit code."""
    parser = build_parser()
    argv = _expression_last(sys.argv[1:] if argv is None else list(argv))
    try:  # argparse exits on --help, --version and usage errors: return its code instead
        args = parser.parse_args(argv)
        if args.command is None:
            parser.error(f"choose a command: {', '.join(COMMANDS)}")
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else 0 if e.code is None else 2
    try:
        return COMMANDS[args.command][2](args)
    except (UsageError, CommandFailed) as e:
        print(f"{PROG} {args.command}: error: {e}", file=sys.stderr)
        return 2 if isinstance(e, UsageError) else 1


if __name__ == "__main__":
    sys.exit(main())
