"""Gymnasium environments of the toolkit.

Importing this package registers ``hpo/HPO-v0`` (``envs.hpo_env.HPOEnv``)::

    import gymnasium, envs
    env = gymnasium.make("hpo/HPO-v0", task="svc-digits", n_trials=20)

``gymnasium.make("envs:hpo/HPO-v0", ...)`` imports the package itself.
"""

import gymnasium

from envs.hpo_env import HPOEnv, TuningEpisode, observation_size

if "hpo/HPO-v0" not in gymnasium.registry:
    # The default n_trials of HPOEnv ends the episode; no TimeLimit wrapper on top of it.
    gymnasium.register(id="hpo/HPO-v0", entry_point="envs.hpo_env:HPOEnv")

__all__ = ["HPOEnv", "TuningEpisode", "observation_size"]
