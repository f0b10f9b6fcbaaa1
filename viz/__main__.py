"""``python -m tinygrad_ng.viz [path]``: draw the course's J = 3(a + b·c) graph.

Writes ``docs/images/course_graph.svg`` by default (the picture in the README); the format
follows the extension (.svg, .png, .pdf, .dot).
"""

from __future__ import annotations

import sys

from .examples import course_example
from .graph import draw_graph, save


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = args[0] if args else "docs/images/course_graph.svg"
    graph = draw_graph(course_example(), title="J = 3(a + b·c): forward values and gradients")
    print(save(graph, path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
