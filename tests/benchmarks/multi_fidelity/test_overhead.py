"""``benchmarks.multi_fidelity.overhead``: one line per entry with its milliseconds a decision
and the share of an epoch of the table's model."""

from __future__ import annotations

import re

from benchmarks.multi_fidelity import overhead
from benchmarks.multi_fidelity.run import SCHEDULER_ENTRIES


def test_every_entry_gets_its_milliseconds_a_decision(capsys):
    overhead.main(["--table", "sgd-iris", "--seeds", "1"])
    lines = capsys.readouterr().out.splitlines()
    assert re.match(r"sgd-iris: one epoch [\d.]+ ms, 10 % of it [\d.]+ ms", lines[0])
    measured = {line.split()[0]: float(line.split()[1]) for line in lines[1:]}
    assert set(SCHEDULER_ENTRIES) | {"none", "hyperband"} <= set(measured) and "wilcoxon" not in measured
    assert all(ms > 0 for ms in measured.values())
