"""The ``hpo`` command's parser and run: one module per command group under ``hpo.cli``,
loaded by ``build_parser``; ``hpo.cli.main`` imports this module inside its Ctrl-C handling."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Mapping
from types import MappingProxyType

from hpo.errors import UserError
from hpo.threads import limit_threads
from hpo.urls import redact_text

# The command modules, in the order ``hpo --help`` shows them; imported by ``build_parser``,
# inside ``main``'s Ctrl-C handling (they load Optuna, pandas and the rest: a second or more).
COMMANDS = ("tune", "worker", "tasks", "optimizers", "pretrain", "bench", "electrode", "dynamics", "demo")


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
    for name in COMMANDS:
        importlib.import_module(f"hpo.cli.{name}").register(subparsers)
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


def run(argv: list[str] | None = None) -> int:
    """The ``hpo`` command (``hpo.cli.main``, which also handles Ctrl-C): parse, run, and turn
    failures into an exit status and one line."""
    args = None
    try:
        limit_threads()
        _show_log()
        parser = build_parser()
        args = parser.parse_args(argv)
        if getattr(args, "func", None) is None:
            parser.print_help()
            return 2
        return int(args.func(args) or 0)
    except UserError as err:
        if args is not None and args.verbose:
            raise
        print(f"hpo: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into 'head' and the like: stop quietly
        sys.stderr.close()
        return 141
    except OSError as err:  # full disk, permissions, I/O: name the file, no traceback
        if args is not None and args.verbose:
            raise
        where = f" ({err.filename})" if err.filename else ""
        print(f"hpo: error: {err.strerror or err}{where}", file=sys.stderr)
        return 1
