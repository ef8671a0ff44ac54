"""The ``hpo`` command line: one entry point, one module per command group.

Each command module exposes ``register(subparsers)``, which adds its parser and sets
``func`` (called with the parsed arguments, returns an exit code). Everything a command
does is a documented Python call first; the modules here only parse and print.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Mapping
from types import MappingProxyType

from hpo.cli import bench, demo, dynamics, electrode, optimizers, pretrain, tasks, tune, worker
from hpo.errors import UserError
from hpo.threads import limit_threads
from hpo.urls import redact_text

# Order is the order shown by ``hpo --help``.
COMMANDS = (tune, worker, tasks, optimizers, pretrain, bench, electrode, dynamics, demo)


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: the message names the option, ``--help`` the rest."""

    commands: Mapping[str, argparse.ArgumentParser] = MappingProxyType({})  # by name, set by build_parser

    def error(self, message: str):
        # argparse echoes what was typed: a misplaced storage URL would show its password
        self.exit(2, f"{self.prog}: error: {redact_text(message)} (see '{self.prog} --help')\n")

    def parse_args(self, args=None, namespace=None):
        # argparse reports options no parser knows from the top parser; the command's own
        # parser names the right help ('hpo tune --help', not 'hpo --help').
        parsed, unknown = self.parse_known_args(args, namespace)
        if unknown:
            self.commands.get(getattr(parsed, "command", None), self).error(
                f"unrecognized arguments: {' '.join(unknown)}"
            )
        return parsed


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="hpo",
        description="Hyperparameter and multi-objective optimization toolkit.",
    )
    parser.add_argument("--verbose", action="store_true", help="show full tracebacks and Optuna's per-trial log")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.register(subparsers)
    parser.commands = subparsers.choices
    return parser


class _Console(logging.Handler):
    """The toolkit's log (logger ``hpo``: a resumed study, a failed trial) as plain lines: notes
    on standard output, warnings and errors on standard error (looked up at each record, so
    that a replaced ``sys.stdout`` is followed)."""

    def emit(self, record: logging.LogRecord) -> None:
        stream = sys.stdout if record.levelno < logging.WARNING else sys.stderr
        print(self.format(record), file=stream, flush=True)


def _show_log() -> None:
    logger = logging.getLogger("hpo")
    if not any(isinstance(handler, _Console) for handler in logger.handlers):
        logger.addHandler(_Console())
    logger.setLevel(logging.INFO)


def main(argv: list[str] | None = None) -> int:
    limit_threads()
    _show_log()
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except UserError as err:
        if args.verbose:
            raise
        print(f"hpo: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hpo: interrupted; finished work is kept", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into 'head' and the like: stop quietly
        sys.stderr.close()
        return 141
    except OSError as err:  # full disk, permissions, I/O: name the file, no traceback
        if args.verbose:
            raise
        where = f" ({err.filename})" if err.filename else ""
        print(f"hpo: error: {err.strerror or err}{where}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
