"""Our Optuna samplers, each driven by an agent of ``hpo.agents``:

- ``SACHMRSampler`` (``sac_hmr``): a SAC or SAC-HMR agent proposing the configurations,
  trained on the study as it goes (registry names ``sac``, ``sac-hmr``);
- ``PretrainedSampler`` (``pretrained``): a shipped pre-trained agent steering a
  Gaussian-process search (``sac-hmr-pretrained`` and its ablations).

What they share (the base class, the replay of a study's trials) is in ``_base``.
"""

from hpo.samplers.pretrained import PretrainedSampler
from hpo.samplers.sac_hmr import SACHMRSampler
from hpo.samplers.sac_hmr_transfer import SACHMRTransferSampler

__all__ = ["PretrainedSampler", "SACHMRSampler", "SACHMRTransferSampler"]
