"""Writing DOT statements directly: one formatted line per node or edge, nothing quadratic.

``graphviz.Digraph.node`` re-parses every attribute to decide how to quote it; a drawing
knows which of its strings are HTML-like labels (:class:`Html`, already escaped) and which
are plain text, so it quotes them itself and appends the lines to ``Digraph.body``.
"""

from __future__ import annotations

from collections.abc import Mapping


class Html(str):
    """An HTML-like label whose user text is already escaped; written as ``<...>``."""


def quote(value: str) -> str:
    if isinstance(value, Html):
        return f"<{value}>"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def attr_list(attrs: Mapping[str, str]) -> str:
    return " ".join(f"{k}={quote(v)}" for k, v in attrs.items())


def node(name: str, attrs: Mapping[str, str]) -> str:
    """``name [k="v" ...]`` (``name`` is one of the drawing's own identifiers)."""
    return f"\t{name} [{attr_list(attrs)}]\n"


def edge(tail: str, head: str, attrs: Mapping[str, str]) -> str:
    return f"\t{tail} -> {head} [{attr_list(attrs)}]\n"


def subgraph(name: str, attrs: Mapping[str, str], body: list[str]) -> list[str]:
    """A (cluster) subgraph around ``body``'s lines, indented one level."""
    head = [f"\tsubgraph {name} {{\n"] + [f"\t\t{k}={quote(v)}\n" for k, v in attrs.items()]
    return head + ["\t" + line for line in body] + ["\t}\n"]
