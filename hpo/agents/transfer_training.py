"""Meta-training an agent on tasks built from source studies, and its weights as bytes.

``meta_train`` runs episodes of the tuning MDP (``envs.hpo_env.TuningHistory``, the same
bookkeeping the sampler replays a study through) on perturbed surrogates of the sources
(``hpo.transfer.SourceTask``), one source after the other, with every transition in one
replay buffer. Minibatches so hold transitions of different sources, and the SAC-HMR update
mixes them (``hpo.agents.sac_hmr``): mixture regularization across training environments,
what MixReg introduced it for.

``weights_to_bytes``/``load_weights`` keep an agent's networks and temperature as a NumPy
``.npz`` archive (read with ``allow_pickle=False``), so a trained agent can be cached in a
study's storage and read back by another process without unpickling anything.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence

import numpy as np
import torch as th

from hpo.space import SpaceEncoder
from hpo.transfer.tasks import SourceTask

_ENT_COEF = "log_ent_coef"
_TRANSITION_FIELDS = ("observations", "next_observations", "actions", "rewards")
_TRANSITION_PREFIX = "transitions/"


def meta_train(
    agent,
    tasks: Sequence[SourceTask],
    encoder: SpaceEncoder,
    new_history: Callable[[], object],
    *,
    steps: int,
    episode_length: int,
    random_steps: int,
    gradient_steps: int,
    batch_size: int,
    rng: np.random.Generator,
    progress: bool = False,
    keep: int = 0,
) -> dict[str, np.ndarray]:
    """Train ``agent`` (SB3 ``SAC``/``SACHMR`` whose spaces fit ``encoder`` and the MDP of
    ``new_history``) for ``steps`` environment steps, ``gradient_steps`` updates each, on
    episodes of ``episode_length`` trials of the ``tasks`` in turn, each episode perturbed
    anew. The first ``random_steps`` actions are uniform; the agent acts after that. Draws
    from ``rng`` and from the global torch/NumPy RNGs (the caller seeds those)."""
    from tqdm.auto import tqdm

    buffer = agent.replay_buffer
    buffer.reset()
    history = observation = task = None
    with tqdm(total=steps, disable=not progress, desc="sac-hmr-transfer: meta-training", unit="step") as bar:
        for step in range(steps):
            if step % episode_length == 0:
                task = tasks[(step // episode_length) % len(tasks)].perturbed(rng)
                history = new_history()
                observation = history.observation()
            if step < random_steps:
                action = rng.uniform(-1.0, 1.0, size=encoder.dim)
            else:
                action, _ = agent.predict(observation, deterministic=False)
            point = encoder.snap(history.point_for(action)[None])[0]
            recorded_action = history.action_for(point)  # what the sampler's replay recovers
            reward = history.record(point, task(point, rng))
            next_observation = history.observation()
            buffer.add(
                observation[None],
                next_observation[None],
                recorded_action[None].astype(np.float32),
                np.array([reward], dtype=np.float32),
                np.array([False]),
                [{}],
            )
            observation = next_observation
            if step >= random_steps and gradient_steps:
                agent.train(gradient_steps=gradient_steps, batch_size=batch_size)
            bar.update(1)
    end = buffer.pos if not buffer.full else buffer.buffer_size
    kept = slice(max(0, end - keep), end)
    transitions = {name: getattr(buffer, name)[kept, 0].copy() for name in _TRANSITION_FIELDS}
    buffer.reset()
    return transitions


def add_transitions(buffer, transitions: dict[str, np.ndarray]) -> None:
    """Put transitions returned by ``meta_train`` into an SB3 replay buffer."""
    for i in range(len(transitions["rewards"])):
        buffer.add(
            transitions["observations"][i][None],
            transitions["next_observations"][i][None],
            transitions["actions"][i][None],
            transitions["rewards"][i][None],
            np.array([False]),
            [{}],
        )


def weights_to_bytes(agent, transitions: dict[str, np.ndarray] | None = None) -> bytes:
    """The agent's policy (actor, critics, target critics) and temperature, and optionally
    ``transitions``, as ``.npz`` bytes."""
    arrays = {name: tensor.detach().cpu().numpy() for name, tensor in agent.policy.state_dict().items()}
    for name, array in (transitions or {}).items():
        arrays[_TRANSITION_PREFIX + name] = array
    if getattr(agent, _ENT_COEF, None) is not None:
        arrays[_ENT_COEF] = agent.log_ent_coef.detach().cpu().numpy()
    out = io.BytesIO()
    np.savez_compressed(out, **arrays)
    return out.getvalue()


def load_weights(agent, data: bytes) -> dict[str, np.ndarray]:
    """Put weights written by ``weights_to_bytes`` into ``agent`` (same architecture) and
    return the transitions stored with them (empty if none)."""
    with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
        transitions = {
            name[len(_TRANSITION_PREFIX) :]: arrays[name]
            for name in arrays.files
            if name.startswith(_TRANSITION_PREFIX)
        }
        weights = [name for name in arrays.files if name != _ENT_COEF and not name.startswith(_TRANSITION_PREFIX)]
        state = {name: th.as_tensor(arrays[name]) for name in weights}
        agent.policy.load_state_dict(state)
        if _ENT_COEF in arrays.files and getattr(agent, _ENT_COEF, None) is not None:
            with th.no_grad():
                agent.log_ent_coef.copy_(th.as_tensor(arrays[_ENT_COEF]))
    return transitions
