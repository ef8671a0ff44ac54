"""``benchmarks.dynamics.label_noise``: the clean test error is U-shaped with the noise still
unfitted at its minimum, and the clean gradient dominates early."""

import pytest
import torch

from benchmarks.dynamics.label_noise import label_noise_run, summarise

NOISE = 0.4


@pytest.fixture(scope="module")
def noisy_run():
    torch.set_num_threads(1)
    return label_noise_run(noise=NOISE, n_train=600, width=256, lr=2.0, steps=700, every=50, seed=0)


@pytest.mark.slow
def test_clean_test_error_is_u_shaped_with_the_noise_still_unfitted_at_its_minimum(noisy_run):
    summary = summarise(noisy_run)
    assert summary["min_test_error"] <= summary["final_test_error"] - 0.05
    assert 0 < summary["argmin_step"] < summary["final_step"]
    assert summary["clean_fit_at_min"] >= 0.95
    assert summary["noisy_fit_at_min"] <= 0.35
    assert summary["cosine_stop_step"] is not None
    assert summary["cosine_stop_test_error"] <= summary["min_test_error"] + 0.03


@pytest.mark.slow
def test_clean_gradient_dominates_from_the_zero_function_and_the_dominance_fades_by_the_minimum(noisy_run):
    """From the zero function the noisy gradient is well below its share of the samples (from
    random initial outputs both parts would push the same shrink-the-outputs direction)."""
    by_step = {r["step"]: r for r in noisy_run}
    assert by_step[0]["noisy_to_clean_norm"] < 0.8 * NOISE / (1 - NOISE)
    assert by_step[0]["cos_noisy_clean"] < 0.7
    assert by_step[10]["cos_total_clean"] >= 0.75
    summary = summarise(noisy_run)
    assert summary["dominance_fades_at_step"] <= 2 * summary["argmin_step"]
    assert by_step[300]["noisy_to_clean_norm"] >= 0.95
    assert noisy_run[-1]["noisy_fit"] > summary["noisy_fit_at_min"] + 0.1


@pytest.mark.slow
def test_without_noise_the_test_error_does_not_turn_up():
    rows = label_noise_run(noise=0.0, n_train=600, width=256, lr=2.0, steps=400, every=100, seed=0)
    summary = summarise(rows)
    assert summary["final_test_error"] <= summary["min_test_error"] + 0.01
