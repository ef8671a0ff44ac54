"""``benchmarks.dynamics.catapults``: the catapult lives in the top eigenspace of the kernel, and
smaller SGD batches catapult more, align the AGOP better and test better."""

from benchmarks.dynamics.catapults import catapult_in_top_eigenspace, sgd_batch_sweep, sgd_spike_shares


def test_the_catapult_lives_in_the_top_eigenvector_of_the_current_kernel():
    rows = catapult_in_top_eigenspace(width=1024, steps=15, seed=0)
    peak = max(rows, key=lambda r: r["loss"])
    assert peak["loss"] > 5 * rows[0]["loss"]
    assert peak["share_top1"] > 0.9
    assert rows[-1]["lam_t"] < rows[0]["lam_t"]  # the catapult shrinks the kernel


def test_smaller_batches_catapult_more_align_the_agop_better_and_test_better():
    rows = sgd_batch_sweep((64, 4), n=128, d=20, width=256, epochs=20, final_gd_steps=800, seeds=(0,), n_test=300)
    large, small = rows
    assert small["spikes"] > large["spikes"] + 10
    assert small["agop_alignment"] > large["agop_alignment"] + 0.005
    assert small["agop_alignment"] > small["agop_alignment_init"] + 0.3
    assert small["test_mse"] < 0.75 * large["test_mse"]


def test_sgd_spikes_concentrate_in_the_top_eigenspace_of_the_full_batch_kernel():
    """A random direction would put 5/128 of its energy in the top 5 eigenvectors."""
    rows = sgd_spike_shares(4, n=128, width=256, epochs=2, seed=0, max_spikes=3)
    assert len(rows) == 3
    for row in rows:
        assert row["share_top5_at_peak"] > 0.6
        assert row["share_top5_at_peak"] > row["share_top5_before"] + 0.2
