"""Every Python block of the README and the docs runs as written: each in a fresh process, in
an empty folder (what it writes stays there), single-threaded as the suite is. The signature
of ``hpo.tune`` that docs/tuning.md shows names exactly its parameters."""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def _blocks() -> dict[str, str]:
    found = {}
    for page in PAGES:
        text = page.read_text()
        for match in BLOCK.finditer(text):
            line = text[: match.start()].count("\n") + 1
            found[f"{page.relative_to(ROOT)}:{line}"] = match.group(1)
    return found


BLOCKS = _blocks()


def _run(code: str, folder: Path) -> subprocess.CompletedProcess:
    script = folder / "example.py"
    script.write_text(code)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg", "PYTHONPATH": str(ROOT)}
    # The timeout only ends a hung example; it is not a measure of speed.
    return subprocess.run(
        [sys.executable, str(script)], cwd=folder, env=env, capture_output=True, text=True, timeout=1200
    )


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict[str, subprocess.CompletedProcess]:
    """Every block run once, two at a time (each process is single-threaded)."""
    folders = {name: tmp_path_factory.mktemp("example") for name in BLOCKS}
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(_run, code, folders[name]) for name, code in BLOCKS.items()}
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(BLOCKS))
def test_the_block_runs_as_written(name, outcomes):
    done = outcomes[name]
    assert done.returncode == 0, done.stderr[-3000:]


def test_the_documented_signature_of_tune_names_its_parameters():
    import hpo

    text = (ROOT / "docs" / "tuning.md").read_text()
    shown = re.search(r"^```text\nhpo\.tune\((.*?)\) -> hpo\.TuneResult\n```", text, re.S | re.M)
    assert shown is not None, "docs/tuning.md shows hpo.tune's signature in a text block"
    names = [part.split("=")[0].strip() for part in shown.group(1).replace("\n", " ").split(",")]
    names = [name for name in names if name and name != "*"]
    assert names == list(inspect.signature(hpo.tune).parameters)
