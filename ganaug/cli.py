"""The ``ganaug`` command line.

Each subcommand lives in its own module under ``ganaug/commands`` with two
functions: ``add_parser(subparsers)`` and ``run(args) -> int``. Add a command
by adding its module name to ``COMMANDS``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from ganaug._version import FORMAT_VERSION, __version__

__all__ = ["main", "build_parser", "COMMANDS"]

#: subcommand modules in ganaug.commands, in the order ``--help`` lists them
COMMANDS: list[str] = ["augment_boxes", "detect", "report", "resample", "sample"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ganaug",
        description="Train GANs on your data and synthesize what it lacks.",
        epilog="Run 'ganaug COMMAND --help' for a command's options.",
    )
    parser.add_argument(
        "--version", action="version", version=f"ganaug {__version__} (model format {FORMAT_VERSION})"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"ganaug.commands.{name}")
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``ganaug`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 0
    try:
        return int(args.run(args) or 0)
    except (ValueError, TypeError, FileNotFoundError, KeyError) as exc:
        # bad input: one clear line, no traceback
        print(f"ganaug {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
