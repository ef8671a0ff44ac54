"""``benchmarks.dynamics.weak_models``: a dominant unit stops the Hessian's decay with width."""

import pytest

from benchmarks.dynamics.weak_models import hessian_with_and_without_dominant_unit, mean_and_interval


@pytest.mark.slow
def test_dominant_unit_stops_the_decay():
    """Per seed, over three seeds: the dominant unit's O(1) part varies with its random weights, so
    one seed proves little."""
    rows = hessian_with_and_without_dominant_unit((64, 512), n_inputs=1, seeds=(0, 1, 2))
    dominant_ratios = []
    for seed in (0, 1, 2):
        weak = [r["hessian_norm"] for r in rows if r["seed"] == seed and not r["dominant_unit"]]
        dominant = [r["hessian_norm"] for r in rows if r["seed"] == seed and r["dominant_unit"]]
        assert weak[1] / weak[0] < 0.5  # m^-1/2 would give 0.35
        assert dominant[1] > 3 * weak[1]
        dominant_ratios.append(dominant[1] / dominant[0])
    assert mean_and_interval(dominant_ratios)[0] > 0.7
