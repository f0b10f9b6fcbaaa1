"""``python -m tinygrad_ng`` / ``tinygrad-ng``: the command-line front door."""

from __future__ import annotations

import sys


def demo() -> int:
    """The course's computation graph J = 3(a + b·c), forward and backward."""
    import tinygrad_ng as tg

    a = tg.Tensor(5.0, requires_grad=True, name="a")
    b = tg.Tensor(3.0, requires_grad=True, name="b")
    c = tg.Tensor(2.0, requires_grad=True, name="c")
    u = b * c
    v = a + u
    J = 3 * v
    J.backward()
    print(f"u = bc = {u.item():g}, v = a + u = {v.item():g}, J = 3v = {J.item():g}")
    print(f"dJ/da = {a.grad:g}, dJ/db = {b.grad:g}, dJ/dc = {c.grad:g}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] not in ("demo",):
        print(f"tinygrad-ng: unknown command {argv[0]!r}; try 'tinygrad-ng demo'", file=sys.stderr)
        return 2
    return demo()


if __name__ == "__main__":
    sys.exit(main())
