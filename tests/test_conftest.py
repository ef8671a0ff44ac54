"""The suite leaks no process: a process a test starts is killed when the test ends, and a run
that still has a child process at its end fails, naming it (``tests/conftest.py``)."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]

LEAKING_TESTS = """
    import subprocess
    import sys
    from pathlib import Path

    import pytest

    def sleeper(name):
        process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", name])
        Path(name).write_text(str(process.pid))
        return process

    @pytest.fixture(scope="session")
    def leaked_by_the_session():
        yield sleeper("session-leak")  # never stopped: only the end-of-run check sees it

    def test_leaks_a_process():
        sleeper("test-leak")

    def test_after_the_leak(leaked_by_the_session):
        assert not psutil_alive(int(Path("test-leak").read_text()))

    def psutil_alive(pid):
        import psutil

        try:
            return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False
"""


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_leaked_processes_are_killed_and_fail_the_run(tmp_path):
    (tmp_path / "conftest.py").write_text("from tests.conftest import *  # noqa: F403\n")
    (tmp_path / "test_leaks.py").write_text(textwrap.dedent(LEAKING_TESTS))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path), str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert "2 passed" in result.stdout, result.stdout + result.stderr
    assert result.returncode == 1  # the tests passed; the leftover process failed the run
    assert "child processes left at the end of the run (now killed):" in result.stdout
    session_leak = int((tmp_path / "session-leak").read_text())
    assert f"{session_leak} (" in result.stdout and "test-leak" not in result.stdout.split("end of the run")[1]
    assert not alive(session_leak) and not alive(int((tmp_path / "test-leak").read_text()))
