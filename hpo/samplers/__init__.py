"""Our Optuna samplers, all but one driven by an agent of ``hpo.agents``:

- ``SACHMRSampler`` (``sac_hmr``): a SAC or SAC-HMR agent proposing the configurations,
  trained on the study as it goes (registry names ``sac``, ``sac-hmr``);
- ``PretrainedSampler`` (``pretrained``): a shipped pre-trained agent steering a
  Gaussian-process search (``sac-hmr-pretrained`` and its ablations);
- ``EHVISampler`` (``ehvi``): the same Gaussian-process search for two objectives, by expected
  hypervolume improvement, no agent (``gp-search`` on two objectives).

What they share (the base class, the replay of a study's trials) is in ``_base``.
"""

from hpo.samplers.ehvi import EHVISampler
from hpo.samplers.pretrained import PretrainedSampler
from hpo.samplers.sac_hmr import SACHMRSampler
from hpo.samplers.sac_hmr_transfer import SACHMRTransferSampler

__all__ = ["EHVISampler", "PretrainedSampler", "SACHMRSampler", "SACHMRTransferSampler"]
