"""Shared test setup: single-threaded numerical libraries (2-core CI machines suffer
badly from oversubscribed BLAS/OpenMP pools), quiet Optuna logs, and no process left behind:
every process a test starts is killed when the test ends, pass or fail, and the run fails if
a child of the test process is still alive at its end; stable-baselines3's logs stay in
pytest's folder."""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import optuna  # noqa: E402
import psutil  # noqa: E402  (installed with dask's distributed, a dependency)
import pytest  # noqa: E402

from hpo.threads import limit_threads  # noqa: E402

limit_threads(1)
optuna.logging.set_verbosity(optuna.logging.WARNING)

from tests.postgres import postgres_url  # noqa: E402,F401  (a session fixture)

# Helpers multiprocessing starts once and reuses for the whole run: not a test's leftovers.
_SHARED_HELPERS = ("multiprocessing.resource_tracker", "multiprocessing.forkserver")


def children() -> list[psutil.Process]:
    """The living child processes of this process (grandchildren included), without the
    shared multiprocessing helpers."""
    found = []
    for process in psutil.Process().children(recursive=True):
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                continue
            if any(helper in " ".join(process.cmdline()) for helper in _SHARED_HELPERS):
                continue
        except psutil.NoSuchProcess:
            continue
        found.append(process)
    return found


def kill(processes: list[psutil.Process], grace: float = 3.0) -> None:
    """SIGTERM, then SIGKILL to the ones still alive after ``grace`` seconds; reaped."""
    for process in processes:
        try:
            process.terminate()
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(processes, timeout=grace)
    for process in alive:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(alive, timeout=grace)


@pytest.fixture(autouse=True, scope="session")
def sb3_logs_in_the_test_folder(tmp_path_factory):
    """Agents trained with ``learn()`` and no logger of their own log to ``$SB3_LOGDIR``, else
    to a fresh folder in the system's temp dir, which nothing would remove."""
    folder = tmp_path_factory.mktemp("sb3-logs")
    saved = os.environ.get("SB3_LOGDIR")
    os.environ["SB3_LOGDIR"] = str(folder)
    yield
    if saved is None:
        os.environ.pop("SB3_LOGDIR", None)
    else:
        os.environ["SB3_LOGDIR"] = saved


@pytest.fixture(autouse=True)
def kill_the_processes_a_test_started():
    before = {process.pid for process in children()}
    yield
    kill([process for process in children() if process.pid not in before])


def pytest_sessionfinish(session, exitstatus):
    left = children()
    if not left:
        return
    names = ", ".join(_describe(process) for process in left)
    kill(left)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"child processes left at the end of the run (now killed): {names}", red=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _describe(process: psutil.Process) -> str:
    try:
        return f"{process.pid} ({' '.join(process.cmdline())[:100]})"
    except psutil.Error:
        return str(process.pid)


@pytest.fixture(scope="module")
def shipped():
    """The electrode dataset that ships with the package."""
    from surrogates.dataset import SHIPPED_DATASET, read_dataset

    return read_dataset(SHIPPED_DATASET)


@pytest.fixture(scope="module")
def surrogate(shipped):
    """The surrogate fitted to the shipped dataset."""
    from surrogates.models import Surrogate

    return Surrogate.from_dataset(shipped)
