"""One observation and action layout for every search space of up to ``max_dim`` parameters.

A pre-trained agent must serve spaces of any size without retraining. We pad: the ``d``
encoded coordinates of a space occupy ``d`` of ``max_dim`` *slots*, every per-coordinate
block of ``envs.hpo_env.TuningHistory``'s observation is widened from ``d`` to ``max_dim``
entries (zeros in the empty slots) and a mask of the occupied slots is appended::

    [ TuningHistory's layout with d -> max_dim | mask (max_dim) ]

so its size is ``observation_size(max_dim, window) + max_dim``. The action has ``max_dim``
entries; those of empty slots are ignored. During pre-training each episode places its
coordinates in random slots (``envs.pretrain_env``), so every slot learns every role and no
order of the parameters is special; a sampler puts them in slots ``0..d-1``.

Why padding and not a coordinate-wise network with shared weights: padding keeps the
agent a plain SB3 ``MlpPolicy``, so HMR's input- and hidden-level mixing
(``hpo.agents.sac_hmr``), saving and safe loading all apply unchanged; the price is a fixed
upper bound on the dimension (20 for the shipped agent) and a network that must learn
the slot symmetry from data (docs/pretrained.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from envs.hpo_env import TuningHistory, observation_size
from hpo.errors import UserError

DEFAULT_MAX_DIM = 20


def padded_observation_size(max_dim: int, window: int) -> int:
    """Length of the padded observation (the layout in the module docstring)."""
    return observation_size(max_dim, window) + max_dim


class PaddedHistory:
    """``TuningHistory`` seen through ``max_dim`` slots (see the module docstring).

    ``observation``, ``point_for`` and ``action_for`` use the padded layout; everything else
    (``record``, ``best_value``, ``points``...) is the wrapped history's.
    """

    def __init__(self, history: TuningHistory, max_dim: int = DEFAULT_MAX_DIM, slots: Sequence[int] | None = None):
        if history.dim > max_dim:
            raise UserError(
                f"the search space has {history.dim} parameters; this agent serves at most {max_dim}"
            )
        self.history = history
        self.max_dim = int(max_dim)
        slots = np.arange(history.dim) if slots is None else np.asarray(slots, dtype=np.int64)
        if slots.shape != (history.dim,) or len(set(slots.tolist())) != history.dim or (
            slots.size and (slots.min() < 0 or slots.max() >= max_dim)
        ):
            raise UserError(f"slots must be {history.dim} distinct integers in [0, {max_dim}), got {slots!r}")
        self.slots = slots
        self._scatter = self._scatter_index(history.dim, history.window)

    def _scatter_index(self, d: int, window: int) -> np.ndarray:
        # Where each entry of the unpadded observation goes in the padded one.
        D = self.max_dim
        index = []
        index += list(self.slots) + [D, D + 1]  # last point, its score, failed flag
        index += list(D + 2 + self.slots) + [2 * D + 2, 2 * D + 3]  # best point, score, budget
        for slot in range(window):
            start = 2 * D + 4 + slot * (D + 2)
            index += list(start + self.slots) + [start + D, start + D + 1]
        assert len(index) == observation_size(d, window)
        return np.asarray(index, dtype=np.int64)

    def __getattr__(self, name):
        return getattr(self.history, name)

    def observation(self) -> np.ndarray:
        D, window = self.max_dim, self.history.window
        obs = np.zeros(padded_observation_size(D, window), dtype=np.float32)
        obs[self._scatter] = self.history.observation()
        obs[observation_size(D, window) + self.slots] = 1.0
        return obs

    def point_for(self, action: np.ndarray) -> np.ndarray:
        action = np.asarray(action, dtype=np.float64).reshape(self.max_dim)
        return self.history.point_for(action[self.slots])

    def action_for(self, point: np.ndarray) -> np.ndarray:
        action = np.zeros(self.max_dim, dtype=np.float64)
        action[self.slots] = self.history.action_for(point)
        return action

    def record(self, point: np.ndarray, value: float | None) -> float:
        return self.history.record(point, value)


def slot_block_starts(max_dim: int, window: int) -> list[int]:
    """Offsets of the per-slot blocks of the padded observation (each ``max_dim`` long)."""
    D = max_dim
    return [0, D + 2] + [2 * D + 4 + k * (D + 2) for k in range(window)] + [observation_size(D, window)]


def permute_slots(observations: np.ndarray, actions: np.ndarray, sigma: np.ndarray, window: int):
    """Apply one slot permutation per row: slot ``j`` of the result holds what slot
    ``sigma[row, j]`` held, in every per-slot block of the observation and in the action.
    Any such relabelling of the slots describes the same tuning run, so it is a valid
    transition too (used to augment pre-training batches)."""
    rows, D = sigma.shape
    index = np.broadcast_to(np.arange(observations.shape[1]), observations.shape).copy()
    for start in slot_block_starts(D, window):
        index[:, start : start + D] = start + sigma
    row = np.arange(rows)[:, None]
    return observations[row, index], actions[row, sigma]
