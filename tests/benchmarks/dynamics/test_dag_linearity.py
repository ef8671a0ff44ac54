"""``benchmarks.dynamics.dag_linearity``: at a fixed number of live units the in-degree alone
barely moves the Hessian."""

from benchmarks.dynamics._common import loglog_slope
from benchmarks.dynamics.dag_linearity import hessian_vs_in_degree


def _in_degree_slope(variant):
    rows = hessian_vs_in_degree((16, 256), variants=(variant,), width=512, n_inputs=1)
    return loglog_slope([16, 256], [r["hessian_norm"] for r in rows])


def test_at_a_fixed_number_of_live_units_the_in_degree_alone_barely_moves_the_hessian():
    """The k^-1/2 decay appears only when the output also reads k units, i.e. when the number of
    units that reach the output (the width) shrinks with k."""
    assert _in_degree_slope("hidden in-degree k") > -0.25
    assert _in_degree_slope("all in-degrees k") < -0.3
