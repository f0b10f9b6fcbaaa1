"""Build each notebook from its source: ``src/NN_name.py`` → ``NN_name.ipynb``.

Each source is a plain Python file in the "percent" format that Jupytext, VS Code and
Spyder understand: ``# %%`` starts a code cell and ``# %% [markdown]`` a Markdown cell,
whose lines are written as comments (``# text``). Edit the sources, then run::

    python notebooks/build.py            # rewrite every .ipynb (outputs stripped)
    python notebooks/build.py --check    # exit 1 if a .ipynb is out of date

The notebooks are committed without outputs; the test suite runs them end to end.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "src"
CELL_MARK = "# %%"
MARKDOWN_MARK = "# %% [markdown]"
KERNEL = {"name": "python3", "display_name": "Python 3", "language": "python"}


def sources() -> list[Path]:
    """The notebook sources, in reading order."""
    return sorted(SOURCES.glob("[0-9][0-9]_*.py"))


def target(source: Path) -> Path:
    """Where the notebook built from ``source`` lives."""
    return HERE / f"{source.stem}.ipynb"


def _markdown(lines: list[str], where: str) -> str:
    """Strip the comment marks of a Markdown cell (``# text`` → ``text``, ``#`` → blank)."""
    out = []
    for line in lines:
        if line == "#":
            out.append("")
        elif line.startswith("# "):
            out.append(line[2:])
        elif line.strip():
            raise ValueError(f"{where}: a Markdown cell line must start with '# ', got {line!r}")
        else:
            out.append("")
    return "\n".join(out).strip("\n")


def parse(text: str, where: str = "source") -> list[tuple[str, str]]:
    """Split a percent-format source into ``(kind, text)`` cells, kind ``code``/``markdown``."""
    cells: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith(CELL_MARK):
            rest = line[len(CELL_MARK):].strip()
            if rest not in ("", "[markdown]"):
                raise ValueError(f"{where}: unknown cell marker {line!r}")
            cells.append(("markdown" if line.startswith(MARKDOWN_MARK) else "code", []))
        elif cells:
            cells[-1][1].append(line)
        elif line.strip() and not line.startswith("#"):
            raise ValueError(f"{where}: code before the first '# %%' cell marker: {line!r}")
    result = []
    for kind, lines in cells:
        body = _markdown(lines, where) if kind == "markdown" else "\n".join(lines).strip("\n")
        if body:
            result.append((kind, body))
    return result


def build(source: Path) -> nbformat.NotebookNode:
    """The notebook (no outputs) described by a percent-format source file."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": dict(KERNEL), "language_info": {"name": "python"}}
    for i, (kind, body) in enumerate(parse(source.read_text(encoding="utf-8"), source.name)):
        new = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
        cell = new(body)
        cell.id = f"cell-{i:02d}"
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def render(nb: nbformat.NotebookNode) -> str:
    return nbformat.writes(nb) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="only report notebooks that differ from their sources")
    args = parser.parse_args(argv)
    stale = []
    for source in sources():
        text = render(build(source))
        path = target(source)
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(path.name)
        if not args.check:
            path.write_text(text, encoding="utf-8")
    verb = "out of date" if args.check else "written"
    print(f"{len(stale)} notebook(s) {verb}" + (": " + ", ".join(stale) if stale else ""))
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
