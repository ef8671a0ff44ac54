"""The layers of docs/architecture.md hold: the import contract in pyproject.toml is kept
(function-local imports included), no two modules import each other through any chain, no
module of the packages imports the facade ``hpo/__init__.py``, every module of the four packages
sits in a layer, and ruff's lint and format checks pass with the settings in pyproject.toml."""

from __future__ import annotations

import graphlib
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
    assert cli.lint_imports(config_filename=str(CONFIG), no_cache=True) == 0


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
    assert import_cycle(grimp.build_graph(*PACKAGES, cache_dir=None)) is None


def test_nothing_inside_the_packages_imports_the_facade():
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    assert graph.find_modules_that_directly_import("hpo") == set()


def test_a_planted_cycle_is_found():
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    graph.add_import(importer="hpo.errors", imported="hpo.tune")  # hpo.tune imports hpo.errors
    cycle = import_cycle(graph)
    assert cycle is not None and cycle[0] == cycle[-1] and {"hpo.errors", "hpo.tune"} <= set(cycle)


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
