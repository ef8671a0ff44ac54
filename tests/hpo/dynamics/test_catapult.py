"""``hpo.dynamics.catapult``: catapults, divergence and phases detected in loss curves."""

import pytest

import hpo.dynamics as dyn
from hpo.errors import UserError


def test_online_divergence_and_unrecovered_catapult_tests():
    assert not dyn.diverged([1.0, 0.5, 3.0]) and dyn.diverged([1.0, 0.5, 30.0]) and dyn.diverged([1.0, float("nan")])
    recovered = [1.0, 0.5, 0.3, 5.0, 2.0, 0.2] + [0.1] * 30
    assert not dyn.catapult_unrecovered(recovered, patience=5)
    stuck = [1.0, 0.5, 0.3] + [2.0] * 10
    assert dyn.catapult_unrecovered(stuck, patience=10) and not dyn.catapult_unrecovered(stuck, patience=11)
    assert dyn.catapult_unrecovered([1.0, float("inf")])
    with pytest.raises(UserError, match="patience"):
        dyn.catapult_unrecovered(stuck, patience=0)


def test_detect_catapults_counts_spikes_and_their_peaks():
    curve = [1.0, 0.5, 0.2, 0.1, 0.5, 3.0, 0.4, 0.05, 0.04, 0.2, 0.03, 0.01]
    report = dyn.detect_catapults(curve)
    assert report.count == 2
    assert report.peak_steps == [5, 9]
    assert report.peak_losses == [3.0, 0.2]
    assert not report.diverged


def test_detect_catapults_ignores_noise_near_zero_and_flags_divergence():
    assert dyn.detect_catapults([1.0, 1e-5, 1e-4, 1e-6]).count == 0
    report = dyn.detect_catapults([1.0, 0.5, 4.0, float("inf")])
    assert report.diverged and report.count == 1


def test_classify_phase():
    assert dyn.classify_phase([1.0, 0.5, 0.1]) == "monotone"
    assert dyn.classify_phase([1.0, 20.0, 0.1, 0.01]) == "catapult"
    assert dyn.classify_phase([1.0, 20.0, float("nan")]) == "diverged"
