"""The layers of docs/architecture.md hold: the import contract in pyproject.toml is kept
(function-local imports included), every module of the four packages sits in a layer, and
ruff's lint and format checks pass with the settings in pyproject.toml."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from importlinter import cli

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "pyproject.toml"
ABOVE_EVERY_LAYER = {"hpo", "hpo.__main__"}


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


@pytest.mark.parametrize("package", ["hpo", "envs", "surrogates", "benchmarks"])
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
