"""The subcommands of the ``tinygrad-ng`` command line (``python -m tinygrad_ng``).

Each module gives ``add_arguments(parser)`` and ``run(args) -> exit code``; they report
problems by raising one of the two exceptions below, which the front door in
``tinygrad_ng/__main__.py`` prints as one line, without a traceback. Files the user asked
for are checked with :func:`output_path` before the work starts and written inside
:func:`writing`, so a path that cannot be written is a one-line usage error too.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class UsageError(Exception):
    """A bad argument, a bad expression or a missing optional dependency (exit code 2)."""


class CommandFailed(Exception):
    """The command ran but could not finish, e.g. no Graphviz to render with (exit code 1)."""


def _reason(e: OSError) -> str:
    return e.strerror or str(e)


def output_path(path: str | os.PathLike, option: str, folder: bool = False) -> Path:
    """Check that ``path`` (given with ``option``) can be written, before any work is done:
    create its missing parent folders (the folder itself when ``folder``) and write a
    scratch file there. Raises :class:`UsageError` ("cannot write PATH (OPTION): reason")
    when the path is a folder but a file is wanted, or the folder cannot be written."""
    path = Path(path)
    where = path if folder else path.parent

    def refuse(reason: str) -> UsageError:
        return UsageError(f"cannot write {path} ({option}): {reason}")

    try:
        if not folder and path.is_dir():
            raise refuse("it is a folder; give a file name")
        existing = next(p for p in (where, *where.parents) if p.exists())
        if not existing.is_dir():
            raise refuse(f"{existing} is a file, not a folder")
        where.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=where):
            pass
    except OSError as e:
        raise refuse(_reason(e)) from None
    return path


@contextmanager
def writing(path: str | os.PathLike, option: str) -> Iterator[None]:
    """Report an ``OSError`` raised while writing ``path`` as a :class:`UsageError` (a full
    disk, a folder removed meanwhile); errors of any other kind pass through unchanged."""
    try:
        yield
    except OSError as e:
        raise UsageError(f"cannot write {path} ({option}): {_reason(e)}") from None
