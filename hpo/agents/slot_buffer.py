"""``SlotShuffledReplayBuffer``: SB3's replay buffer with slot-permutation augmentation.

In the padded layout (``envs.padded``) a relabelling of the slots turns a transition into
another valid transition of the same tuning run. Pre-training samples one random
relabelling per transition of every minibatch, so the network sees each experience in all
slot positions and learns the symmetry between slots from far fewer episodes than random
slot placement alone gives it.
"""

from __future__ import annotations

import numpy as np
from stable_baselines3.common.buffers import ReplayBuffer

from envs.padded import permute_slots


class SlotShuffledReplayBuffer(ReplayBuffer):
    def __init__(self, *args, max_dim: int, window: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_dim, self.window = int(max_dim), int(window)

    def _get_samples(self, batch_inds, env=None):
        samples = super()._get_samples(batch_inds, env)
        # NumPy's global RNG, as SB3's own sampling: seeded by the agent's seed.
        sigma = np.argsort(np.random.random((len(batch_inds), self.max_dim)), axis=1)
        actions = samples.actions.cpu().numpy()
        observations, actions = permute_slots(samples.observations.cpu().numpy(), actions, sigma, self.window)
        next_observations, _ = permute_slots(samples.next_observations.cpu().numpy(), actions, sigma, self.window)
        return samples._replace(
            observations=self.to_torch(observations),
            next_observations=self.to_torch(next_observations),
            actions=self.to_torch(actions),
        )
