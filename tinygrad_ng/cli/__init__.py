"""The subcommands of the ``tinygrad-ng`` command line (``python -m tinygrad_ng``).

Each module gives ``add_arguments(parser)`` and ``run(args) -> exit code``; they report
problems by raising one of the two exceptions below, which the front door in
``tinygrad_ng/__main__.py`` prints as one line, without a traceback.
"""


class UsageError(Exception):
    """A bad argument, a bad expression or a missing optional dependency (exit code 2)."""


class CommandFailed(Exception):
    """The command ran but could not finish, e.g. no Graphviz to render with (exit code 1)."""
