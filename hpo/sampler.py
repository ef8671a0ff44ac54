"""Old home of ``SACHMRSampler``; it lives in ``hpo.samplers.sac_hmr`` now."""

from hpo.samplers._base import AgentSampler, finished_points, silent_logger
from hpo.samplers.sac_hmr import DEFAULT_HORIZON, SACHMRSampler

__all__ = ["DEFAULT_HORIZON", "AgentSampler", "SACHMRSampler", "finished_points", "silent_logger"]
