"""Ctrl-C at random moments of the long commands, beside a CPU-bound process; prints counts.

    python -m benchmarks.reliability.interrupts --runs 200 --commands tune
    python -m benchmarks.reliability.interrupts --runs 50 --commands worker bench pretrain electrode

Each run starts one command in a fresh folder, in a session of its own, and sends SIGINT to
its whole process group as a terminal's Ctrl-C does: at a random time after the start, or
at a random time after its first finished unit of work (a trial, a benchmark run, a
checkpoint, a simulated electrode design), one run in two each. Then it counts:

- hangs: the command has not exited ``--hang-seconds`` after the interrupt (its threads'
  stacks are dumped with faulthandler, then it is killed);
- lost finished work: a trial COMPLETE in the storage (a benchmark record, a checkpoint, a
  dataset row) just before the interrupt that is no longer there, or changed, after the exit;
- RUNNING left: trials still RUNNING after the exit;
- corrupt files: a storage failing SQLite's integrity check, an output that does not parse
  (CSV, JSON, PNG, xz archive, zip, npz), a checkpoint whose parts disagree, a temporary
  file of an atomic write left behind;
- orphans: processes of the command's group still alive 5 s after it exited.

The numbers are printed, one line per command. It is a script, not a test: a run takes
seconds to a minute, and the counts are what matters.
"""

from __future__ import annotations

import argparse
import collections
import csv
import json
import lzma
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psutil

from hpo.io import atomic_write_text

# The command runs as 'hpo ARGS' would, with faulthandler ready to dump every thread's stack
# on SIGUSR1 (how a hang is diagnosed).
LAUNCHER = (
    "import faulthandler, signal, sys; faulthandler.register(signal.SIGUSR1, all_threads=True); "
    "from hpo.cli import main; sys.exit(main(sys.argv[1:]))"
)
OBJECTIVE = "import time\ndef objective(p):\n    time.sleep(0.05)\n    return (p['x'] - 0.3) ** 2 + p['n']\n"
SPACE = "x: {type: float, low: -1, high: 1}\nn: {type: int, low: 0, high: 3}\n"
N_TRIALS = 60
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# 130: "hpo: interrupted"; -SIGINT: interrupted while Python itself starts, before hpo's
# handler is in place; 0: finished before the interrupt.
EXPECTED_EXITS = (0, 130, -signal.SIGINT)


@dataclass
class Outcome:
    interrupted: bool = True
    hang: bool = False
    lost: int = 0
    running: int = 0
    corrupt: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    exit_code: int | None = None
    traceback: bool = False  # stderr holds a Python traceback
    stack: str = ""


# ---- the commands ------------------------------------------------------------------------


class TrialCommand:
    """``hpo tune`` on a small objective with a SQLite storage: units of work are trials."""

    name = "tune"

    def prepare(self, folder: Path) -> None:
        (folder / "obj.py").write_text(OBJECTIVE)
        (folder / "space.yaml").write_text(SPACE)

    def args(self, folder: Path) -> list[str]:
        common = ["--objective", "obj:objective", "--space", "space.yaml", "--study-name", "s", "--no-progress"]
        return ["tune", *common, "--storage", self.storage(folder), "--n-trials", str(N_TRIALS), "--out", "out"]

    @staticmethod
    def storage(folder: Path) -> str:
        return f"sqlite:///{folder / 'db.sqlite'}"

    def finished(self, folder: Path) -> dict:
        """COMPLETE trials: number -> value."""
        db = folder / "db.sqlite"
        if not db.exists():
            return {}
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as con:
                rows = con.execute(
                    "select t.number, v.value from trials t join trial_values v on v.trial_id = t.trial_id "
                    "where t.state = 'COMPLETE'"
                ).fetchall()
        except sqlite3.OperationalError:  # the schema is being created
            return {}
        return dict(rows)

    def check(self, folder: Path, before: dict, outcome: Outcome) -> None:
        after = self.finished(folder)
        outcome.lost = sum(after.get(number) != value for number, value in before.items())
        db = folder / "db.sqlite"
        if db.exists():
            with sqlite3.connect(db, timeout=10) as con:
                if con.execute("pragma integrity_check").fetchone()[0] != "ok":
                    outcome.corrupt.append("db.sqlite")
                if con.execute("select name from sqlite_master where name = 'trials'").fetchone():
                    outcome.running = con.execute("select count(*) from trials where state = 'RUNNING'").fetchone()[0]
        out = folder / "out"
        _check_csv(out / "history.csv", outcome)
        _check_png(out / "convergence.png", outcome)
        _check_no_temporaries(out, outcome)


class WorkerCommand(TrialCommand):
    """``hpo worker`` on a study made with ``hpo tune --create-only`` (not interrupted)."""

    name = "worker"

    def prepare(self, folder: Path) -> None:
        super().prepare(folder)
        create = [*super().args(folder), "--create-only"]
        subprocess.run(_hpo(create), cwd=folder, check=True, capture_output=True)

    def args(self, folder: Path) -> list[str]:
        return ["worker", "--objective", "obj:objective", "--storage", self.storage(folder), "--study", "s"]


class BenchCommand:
    """``hpo bench`` on a local pool of 2 processes: units of work are run records."""

    name = "bench"

    def prepare(self, folder: Path) -> None:
        pass

    def args(self, folder: Path) -> list[str]:
        return [
            "bench",
            *("--suite", "smoke", "--out", "out", "--problems", "branin-2d", "--optimizers", "tpe"),
            *("--seeds", "4", "--n-trials", "30", "--workers", "2", "--no-progress"),
        ]

    def finished(self, folder: Path) -> dict:
        records = {}
        out = folder / "out"
        archive = out / "runs.jsonl.xz"
        try:
            for line in lzma.decompress(archive.read_bytes()).decode().splitlines():
                record = json.loads(line)
                records[(record["problem"], record["optimizer"], record["seed"])] = record["status"]
        except (OSError, lzma.LZMAError, ValueError):
            pass  # absent, or being replaced: the run files say the rest
        for path in sorted(out.glob("runs/*/*/seed*.json")):
            try:
                record = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            records[(record["problem"], record["optimizer"], record["seed"])] = record["status"]
        return records

    def check(self, folder: Path, before: dict, outcome: Outcome) -> None:
        out = folder / "out"
        after = self.finished(folder)
        outcome.lost = sum(after.get(key) != status for key, status in before.items())
        for path in out.glob("runs/*/*/seed*.json"):
            _check_json(path, outcome)
        archive = out / "runs.jsonl.xz"
        if archive.exists():
            try:
                for line in lzma.decompress(archive.read_bytes()).decode().splitlines():
                    json.loads(line)
            except (lzma.LZMAError, ValueError):
                outcome.corrupt.append(archive.name)
        _check_json(out / "bench.json", outcome)
        for path in out.glob("*.csv"):
            _check_csv(path, outcome)
        _check_no_temporaries(out, outcome)


class PretrainCommand:
    """``hpo pretrain`` with frequent checkpoints: units of work are checkpointed steps."""

    name = "pretrain"

    def prepare(self, folder: Path) -> None:
        pass

    def args(self, folder: Path) -> list[str]:
        return [
            "pretrain",
            *("--out", "out", "--steps", "150", "--checkpoint-every", "25"),
            *("--validation-functions", "1", "--learning-starts", "25", "--no-progress"),
        ]

    def finished(self, folder: Path) -> dict:
        try:
            state = json.loads((folder / "out" / "checkpoint" / "state.json").read_text())
        except (OSError, ValueError):
            return {}
        return {"step": int(state["step"])}

    def check(self, folder: Path, before: dict, outcome: Outcome) -> None:
        checkpoint = folder / "out" / "checkpoint"
        state_path = checkpoint / "state.json"
        if state_path.exists():
            try:
                step = int(json.loads(state_path.read_text())["step"])
            except (ValueError, KeyError):
                outcome.corrupt.append("checkpoint/state.json")
                step = None
            if step is not None:
                outcome.lost = int(step < before.get("step", 0))
                self._check_checkpoint(checkpoint, step, outcome)
        for path in (folder / "out").glob("*.csv"):
            _check_csv(path, outcome)
        _check_no_temporaries(folder / "out", outcome)

    @staticmethod
    def _check_checkpoint(checkpoint: Path, step: int, outcome: Outcome) -> None:
        try:
            with zipfile.ZipFile(checkpoint / "agent.zip") as agent:
                if agent.testzip() is not None:
                    outcome.corrupt.append("checkpoint/agent.zip")
        except (OSError, zipfile.BadZipFile):
            outcome.corrupt.append("checkpoint/agent.zip")
        try:
            with np.load(checkpoint / "buffer.npz", allow_pickle=False) as buffer:
                # the buffer of that step: SB3 stores a step's transition after the callback
                # that saves the checkpoint, so it holds one transition fewer than the step
                if len(buffer["rewards"]) != step - 1:
                    outcome.corrupt.append(f"checkpoint/buffer.npz ({len(buffer['rewards'])} steps, state {step})")
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):
            outcome.corrupt.append("checkpoint/buffer.npz")


class ElectrodeDatasetCommand:
    """``hpo electrode dataset`` on 2 processes, coarse P2D mesh: units of work are CSV rows."""

    name = "electrode"

    def prepare(self, folder: Path) -> None:
        pass

    def args(self, folder: Path) -> list[str]:
        return [
            *("electrode", "dataset", "--n", "16", "--out", "out/designs.csv"),
            *("--workers", "2", "--points", "8", "--no-progress"),
        ]

    def finished(self, folder: Path) -> dict:
        """Complete rows: design id -> status."""
        try:
            with (folder / "out" / "designs.csv").open(newline="") as handle:
                rows = list(csv.reader(handle))
        except (OSError, csv.Error):
            return {}
        if not rows:
            return {}
        return {row[0]: row[rows[0].index("status")] for row in rows[1:] if len(row) == len(rows[0])}

    def check(self, folder: Path, before: dict, outcome: Outcome) -> None:
        after = self.finished(folder)
        outcome.lost = sum(after.get(key) != status for key, status in before.items())
        # one complete line per design (a partial last line is dropped on resume, but a
        # clean interrupt must not leave one)
        _check_csv(folder / "out" / "designs.csv", outcome)
        _check_json(folder / "out" / "designs.json", outcome)
        _check_no_temporaries(folder / "out", outcome)


COMMANDS = {
    command.name: command
    for command in (TrialCommand(), WorkerCommand(), BenchCommand(), PretrainCommand(), ElectrodeDatasetCommand())
}


# ---- file checks ---------------------------------------------------------------------------


def _check_csv(path: Path, outcome: Outcome) -> None:
    if not path.exists():
        return
    try:
        with path.open(newline="") as handle:
            rows = list(csv.reader(handle))
        if not rows or len({len(row) for row in rows}) != 1:
            outcome.corrupt.append(path.name)
    except (OSError, csv.Error, UnicodeDecodeError):
        outcome.corrupt.append(path.name)


def _check_json(path: Path, outcome: Outcome) -> None:
    if not path.exists():
        return
    try:
        json.loads(path.read_text())
    except (OSError, ValueError):
        outcome.corrupt.append(path.name)


def _check_png(path: Path, outcome: Outcome) -> None:
    if path.exists():
        data = path.read_bytes()
        if not (data.startswith(PNG_MAGIC) and data[-12:-4] == b"\x00\x00\x00\x00IEND"):  # the end chunk
            outcome.corrupt.append(path.name)


def _check_no_temporaries(folder: Path, outcome: Outcome) -> None:
    # hpo.io.atomic_write's temporary files are named ".NAME.XXXXXXXX.SUFFIX"
    if folder.exists():
        outcome.corrupt += [f"{p.relative_to(folder)} (temporary)" for p in folder.rglob(".*") if p.is_file()]


# ---- one run -------------------------------------------------------------------------------


def _hpo(args: list[str]) -> list[str]:
    return [sys.executable, "-c", LAUNCHER, *args]


def _default_sigint() -> None:
    # A shell that starts this script in the background ignores SIGINT, and children inherit
    # that: give the command the handling a terminal gives it.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def interrupt_once(
    command, folder: Path, rng: random.Random, hang_seconds: float, from_start: float | None = None
) -> Outcome:
    command.prepare(folder)
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    log = folder / "stderr.txt"  # a file, not a pipe: a full pipe would block the command
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            _hpo(command.args(folder)),
            cwd=folder,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
            preexec_fn=_default_sigint,
        )
    group = process.pid
    try:
        return _interrupt(command, folder, process, log=log, rng=rng, hang_seconds=hang_seconds, from_start=from_start)
    finally:
        if process.poll() is None:  # the campaign itself was stopped
            os.killpg(group, signal.SIGKILL)
            process.wait()


def _interrupt(
    command, folder: Path, process, log: Path, rng: random.Random, hang_seconds: float, from_start: float | None
) -> Outcome:
    group = process.pid
    if from_start is not None:  # a moment of the first seconds: Python's start and the imports
        deadline = time.monotonic() + rng.uniform(0.0, from_start)
    elif rng.random() < 0.5:  # any moment, start-up included
        deadline = time.monotonic() + rng.uniform(0.2, 10.0)
    else:  # a moment of the work itself
        while process.poll() is None and not command.finished(folder):
            time.sleep(0.05)
        deadline = time.monotonic() + rng.uniform(0.0, 2.0)
    while process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    outcome = Outcome()
    before = command.finished(folder)
    if process.poll() is not None:
        outcome.interrupted = False  # it finished first: checked all the same
    else:
        os.killpg(group, signal.SIGINT)
    try:
        process.wait(timeout=hang_seconds)
    except subprocess.TimeoutExpired:
        outcome.hang = True
        os.killpg(group, signal.SIGUSR1)  # faulthandler: every thread's stack on stderr
        time.sleep(2)
        os.killpg(group, signal.SIGKILL)
        process.wait()
        outcome.stack = log.read_text(errors="replace")[-6000:]
    outcome.exit_code = process.returncode
    outcome.traceback = "Traceback (most recent call last)" in log.read_text(errors="replace")
    outcome.orphans = _kill_group(group)
    command.check(folder, before, outcome)
    return outcome


def _kill_group(group: int, grace: float = 5.0) -> list[str]:
    """The processes of the command's group still alive ``grace`` seconds after it exited
    (helpers such as multiprocessing's resource tracker exit on their own a moment after
    their parent), killed; returns their command lines."""
    deadline = time.monotonic() + grace
    while True:
        left = []
        for process in psutil.process_iter():
            try:
                if os.getpgid(process.pid) == group and process.status() != psutil.STATUS_ZOMBIE:
                    left.append(process)
            except (ProcessLookupError, psutil.Error):
                continue
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    names = []
    for process in left:
        try:
            names.append(" ".join(process.cmdline())[:200])
            process.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(left, timeout=5)
    return names


# ---- the campaign --------------------------------------------------------------------------


def campaign(
    names: list[str],
    runs: int,
    seed: int,
    hang_seconds: float,
    hog: bool,
    keep: Path | None,
    from_start: float | None = None,
) -> dict:
    rng = random.Random(seed)
    hog_process = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if hog else None
    summary = {}
    try:
        for name in names:
            started = time.perf_counter()
            outcomes = []
            for index in range(runs):
                with tempfile.TemporaryDirectory(prefix=f"hpo-interrupt-{name}-") as tmp:
                    outcome = interrupt_once(
                        COMMANDS[name], Path(tmp), rng, hang_seconds=hang_seconds, from_start=from_start
                    )
                    outcomes.append(outcome)
                    if keep is not None and (
                        outcome.hang
                        or outcome.lost
                        or outcome.running
                        or outcome.corrupt
                        or outcome.orphans
                        or outcome.exit_code not in EXPECTED_EXITS
                        or outcome.traceback
                    ):
                        _keep(Path(tmp), keep / f"{name}-{index}", outcome)
            summary[name] = _summarize(outcomes, time.perf_counter() - started)
            print(_line(name, summary[name]), flush=True)
    finally:
        if hog_process is not None:
            hog_process.kill()
            hog_process.wait()
    return summary


def _keep(folder: Path, target: Path, outcome: Outcome) -> None:
    shutil.copytree(folder, target)
    atomic_write_text(target / "outcome.json", json.dumps(outcome.__dict__, indent=1) + "\n")


def _summarize(outcomes: list[Outcome], seconds: float) -> dict:
    return {
        "runs": len(outcomes),
        "interrupts": sum(o.interrupted for o in outcomes),
        "hangs": sum(o.hang for o in outcomes),
        "lost_finished": sum(o.lost for o in outcomes),
        "running_left": sum(o.running for o in outcomes),
        "corrupt_files": sum(len(o.corrupt) for o in outcomes),
        "orphans": sum(len(o.orphans) for o in outcomes),
        "orphan_commands": [name for o in outcomes for name in o.orphans],
        "exit_codes": dict(collections.Counter(o.exit_code for o in outcomes)),
        "tracebacks": sum(o.traceback for o in outcomes),
        "corrupt": [name for o in outcomes for name in o.corrupt],
        "stacks": [o.stack for o in outcomes if o.hang],
        "seconds": round(seconds, 1),
    }


def _line(name: str, s: dict) -> str:
    return (
        f"{name}: {s['interrupts']} interrupts ({s['runs'] - s['interrupts']} runs finished first), "
        f"{s['hangs']} hangs, {s['lost_finished']} lost finished, {s['running_left']} RUNNING left, "
        f"{s['corrupt_files']} corrupt files, {s['orphans']} orphan processes; exit codes {s['exit_codes']}, "
        f"{s['tracebacks']} tracebacks; "
        f"{s['seconds']:.0f} s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.reliability.interrupts", description=__doc__)
    parser.add_argument("--runs", type=int, default=20, help="interrupted runs of each command")
    parser.add_argument("--commands", nargs="+", choices=sorted(COMMANDS), default=list(COMMANDS))
    parser.add_argument("--seed", type=int, default=0, help="seed of the interrupt moments")
    parser.add_argument("--hang-seconds", type=float, default=60.0, help="an exit later than this is a hang")
    parser.add_argument("--no-hog", action="store_true", help="no CPU-bound process beside the commands")
    parser.add_argument("--keep", type=Path, help="copy the folders of failed runs here")
    parser.add_argument(
        "--from-start",
        type=float,
        metavar="SECONDS",
        help="interrupt every run at a uniform moment of its first SECONDS (Python's start and the imports)",
    )
    parser.add_argument("--json", type=Path, help="also write the summary as JSON")
    args = parser.parse_args(argv)
    # `kill` stops the campaign the way Ctrl-C does: the CPU hog and the command are stopped too.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    summary = campaign(
        args.commands,
        args.runs,
        args.seed,
        hang_seconds=args.hang_seconds,
        hog=not args.no_hog,
        keep=args.keep,
        from_start=args.from_start,
    )
    if args.json:
        atomic_write_text(args.json, json.dumps(summary, indent=1) + "\n")
    bad = sum(
        s["hangs"] + s["lost_finished"] + s["running_left"] + s["corrupt_files"] + s["orphans"] + s["tracebacks"]
        for s in summary.values()
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
