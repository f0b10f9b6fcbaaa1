"""The subcommands of the ``tinygrad-ng`` command line (``python -m tinygrad_ng``)."""
