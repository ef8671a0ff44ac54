"""The ``hpo`` command line: one entry point, one module per command group.

Each command module exposes ``register(subparsers)``, which adds its parser and sets
``func`` (called with the parsed arguments, returns an exit code). Everything a command
does is a documented Python call first; the modules here only parse and print.
"""

from __future__ import annotations

import sys

INTERRUPTED = "hpo: interrupted; finished work is kept"


def main(argv: list[str] | None = None) -> int:
    """The ``hpo`` command: its exit status. Nothing is imported before this function runs,
    so a Ctrl-C at any moment from here on, while the libraries load too, ends it with status
    130 and one line (``hpo.cli.parser.run`` handles the rest); so does SIGTERM."""
    try:
        from hpo.interrupts import interrupt_on_terminate

        with interrupt_on_terminate():  # SIGTERM stops the command as Ctrl-C does
            from hpo.cli.parser import run

            return run(argv)
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
