"""The layers of docs/architecture.md hold: the import contract in pyproject.toml is kept
(function-local imports included), no two modules import each other through any chain, no
module of the packages imports the facade ``hpo/__init__.py``, every module of the four packages
sits in a layer, a call passes at most three arguments by position to a function of the code
base (the rest by keyword), and ruff's lint and format checks pass with the settings in
pyproject.toml."""

from __future__ import annotations

import ast
import graphlib
import logging
import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import pytest
from importlinter import cli

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "pyproject.toml"
ABOVE_EVERY_LAYER = {"hpo", "hpo.__main__"}
PACKAGES = ("hpo", "envs", "surrogates", "benchmarks")
# Methods of Optuna's samplers and SB3's replay buffer, called with those libraries' own
# positional conventions.
LIBRARY_METHODS = {"add", "sample_independent", "after_trial", "before_trial"}


def _layers() -> list[str]:
    contract = tomllib.loads(CONFIG.read_text())["tool"]["importlinter"]["contracts"][0]
    names = []
    for layer in contract["layers"]:
        names += [name.strip() for part in layer.split("|") for name in part.split(":")]
    return names


def _modules(package: str) -> list[str]:
    names = [package]
    for info in pkgutil.walk_packages([str(ROOT / package)], prefix=f"{package}."):
        names.append(info.name)
    return names


def test_import_contract_is_kept(monkeypatch):
    monkeypatch.chdir(ROOT)
    # import-linter configures logging with dictConfig, which disables every existing logger
    # (the toolkit's warnings would vanish from the tests that run after this one)
    loggers = [lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger)]
    disabled = [lg.disabled for lg in loggers]
    try:
        assert cli.lint_imports(config_filename=str(CONFIG), no_cache=True) == 0
    finally:
        for lg, was in zip(loggers, disabled, strict=True):
            lg.disabled = was


def import_cycle(graph: grimp.ImportGraph) -> list[str] | None:
    """One chain of imports that leads from a module back to itself (function-local imports
    included; a package is its ``__init__``), or ``None``."""
    imports = {module: graph.find_modules_directly_imported_by(module) for module in graph.modules}
    try:
        graphlib.TopologicalSorter(imports).prepare()
    except graphlib.CycleError as err:
        return list(err.args[1])
    return None


def test_no_module_imports_itself_through_a_chain():
    cycle = import_cycle(grimp.build_graph(*PACKAGES, cache_dir=None))
    assert cycle is None, "import cycle: " + " -> ".join(reversed(cycle or []))


def test_nothing_inside_the_packages_imports_the_facade():
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    assert graph.find_modules_that_directly_import("hpo") == set()


def test_a_planted_cycle_is_found():
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    graph.add_import(importer="hpo.errors", imported="hpo.tuning")  # hpo.tuning imports hpo.errors
    cycle = import_cycle(graph)
    assert cycle is not None and cycle[0] == cycle[-1] and {"hpo.errors", "hpo.tuning"} <= set(cycle)


def _sources() -> list[Path]:
    return [
        path
        for folder in (*PACKAGES, "tests")
        for path in (ROOT / folder).rglob("*.py")
        if "results" not in path.relative_to(ROOT).parts
    ]


def test_calls_pass_at_most_three_positional_arguments_to_functions_of_the_code_base():
    trees = {path: ast.parse(path.read_text()) for path in _sources()}
    functions = [
        node
        for tree in trees.values()
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]
    variadic = {node.name for node in functions if node.args.vararg}  # f(*args): positional by design
    ours = {node.name for node in functions} - variadic
    offending = []
    for path, tree in trees.items():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or len(node.args) <= 3:
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            if name in ours and name not in LIBRARY_METHODS:
                offending.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}")
    assert offending == []


@pytest.mark.parametrize("package", PACKAGES)
def test_every_module_sits_in_a_layer(package):
    layers = _layers()
    outside = [
        name
        for name in _modules(package)
        if name not in ABOVE_EVERY_LAYER and not any(name == layer or name.startswith(f"{layer}.") for layer in layers)
    ]
    assert outside == []


@pytest.mark.parametrize("command", [["check", "."], ["format", "--check", "."]])
def test_ruff_is_clean(command):
    ruff = Path(sys.executable).with_name("ruff")
    result = subprocess.run([str(ruff), *command], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
