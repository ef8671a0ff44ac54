"""``load_callable``: the one ``MODULE:FUNCTION`` loader (objectives of ``hpo tune`` and
``hpo worker``, model factories of ``hpo dynamics lr-range``, samplers of the optimizer
registry)."""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hpo.errors import UserError


def load_callable(reference: str, what: str = "reference") -> Callable[..., Any]:
    """The function named by ``MODULE:FUNCTION``: MODULE is a dotted module name, importable as
    with ``python -m`` (the working directory comes first on ``sys.path``), or a path to a
    ``.py`` file. ``what`` names the option in error messages (e.g. ``"--objective"``)."""
    module_name, sep, name = reference.rpartition(":") if isinstance(reference, str) else ("", "", "")
    if not sep or not module_name or not name:
        raise UserError(f"{what} {reference!r}: expected MODULE:FUNCTION, e.g. mypkg.train:objective")
    try:
        module = _import(module_name, reference, what)
    except ImportError as err:
        raise UserError(f"{what} {reference!r}: cannot import {module_name!r} ({err})") from None
    value = getattr(module, name, None)
    if not callable(value):
        raise UserError(f"{what} {reference!r}: {module_name!r} has no function {name!r}")
    return value


def _import(module_name: str, reference: str, what: str):
    if module_name.endswith(".py"):
        path = Path(module_name)
        if not path.is_file():
            raise UserError(f"{what} {reference!r}: file {module_name!r} not found")
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        with _on_sys_path(str(path.resolve().parent)):  # its sibling modules, as `python FILE` would
            spec.loader.exec_module(module)
        return module
    # The ``hpo`` console script does not put the working directory on sys.path; ``python -m`` does.
    with _on_sys_path(os.getcwd()):
        return importlib.import_module(module_name)


@contextlib.contextmanager
def _on_sys_path(folder: str):
    """``folder`` first on ``sys.path`` for the import only: left there, a stray module in it
    (say a ``matplotlib.py``) would shadow the real one at a later import of the run."""
    if folder in sys.path or (folder == os.getcwd() and "" in sys.path):
        yield
        return
    sys.path.insert(0, folder)
    try:
        yield
    finally:
        sys.path.remove(folder)
