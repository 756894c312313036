"""Subcommands of the ``ganaug`` CLI, one module each (see ``ganaug.cli``)."""
