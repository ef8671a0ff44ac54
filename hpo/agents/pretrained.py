"""Old home of the shipped agents and their sampler: ``PretrainedSampler`` lives in
``hpo.samplers.pretrained`` now, the shipped agents in ``hpo.agents.shipped``."""

from hpo.agents.shipped import AGENTS, WEIGHTS_DIR, fresh_agent, load_pretrained, weights_path
from hpo.samplers.pretrained import SYSTEM_ATTR, PretrainedSampler

__all__ = [
    "AGENTS",
    "SYSTEM_ATTR",
    "WEIGHTS_DIR",
    "PretrainedSampler",
    "fresh_agent",
    "load_pretrained",
    "weights_path",
]
