"""Meta-training an agent on surrogates of source studies, and its weights as bytes.

``meta_train`` runs tuning episodes of the pre-trained tuner's MDP (``envs.acquisition_env``:
the agent steers a Gaussian-process search, the MDP ``hpo.samplers.PretrainedSampler`` runs on
a study) on perturbed surrogates of the sources (``hpo.transfer.SourceSurrogate``), one source
after the other. Each episode starts as a transfer run on the target does: with the given
start configurations (the sources' portfolio) evaluated on that episode's surrogate. Every
transition goes into the agent's one replay buffer, so minibatches hold transitions of
different sources and the SAC-HMR update mixes them (``hpo.agents.sac_hmr``): mixture
regularization across training environments, what MixReg introduced it for.

``weights_to_bytes``/``load_weights`` keep an agent's networks and temperature as a NumPy
``.npz`` archive (read with ``allow_pickle=False``), so a trained agent can be cached in a
study's storage and read back by another process without unpickling anything.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence

import numpy as np
import torch as th

from envs.acquisition_env import N_STARTUP, AcquisitionEpisode
from hpo.space import SpaceEncoder
from hpo.transfer.source_surrogates import SourcePrior, SourceSurrogate

_ENT_COEF = "log_ent_coef"
_TRANSITION_FIELDS = ("observations", "next_observations", "actions", "rewards")
_TRANSITION_PREFIX = "transitions/"
_REFERENCE_POINTS = 64


def meta_train(
    agent,
    surrogates: Sequence[SourceSurrogate],
    encoder: SpaceEncoder,
    start: np.ndarray,
    *,
    horizon: int,
    steps: int,
    episode_length: int,
    gradient_steps: int,
    batch_size: int,
    rng: np.random.Generator,
    progress: bool = False,
    keep: int = 0,
    prior: bool = False,
) -> dict[str, np.ndarray]:
    """Train ``agent`` (SB3 ``SAC``/``SACHMR`` with the spaces of
    ``envs.acquisition_env.AcquisitionEnv``) for ``steps`` agent steps, ``gradient_steps``
    updates each, on episodes of the ``surrogates`` in turn, each perturbed anew: the encoded
    ``start`` points (at least ``N_STARTUP``: random points fill up), then ``episode_length``
    proposals of the agent, in a run of ``horizon`` trials (the observation's budget; an
    episode that ends before it is cut short, not terminated). Returns the last ``keep``
    transitions. Draws from ``rng`` and from the global torch/NumPy RNGs (the caller seeds
    those). ``prior``: each surrogate's episodes have the ``SourcePrior`` of the other surrogates."""
    from tqdm.auto import tqdm

    # A surrogate's prior is the other sources', as a target's is its sources'.
    priors = [
        SourcePrior([other for j, other in enumerate(surrogates) if j != i]) if prior and len(surrogates) > 1 else None
        for i in range(len(surrogates))
    ]
    buffer = agent.replay_buffer
    buffer.reset()
    episode = observation = surrogate = None
    done_in = episodes = 0
    with tqdm(total=steps, disable=not progress, desc="sac-hmr-transfer: meta-training", unit="step") as bar:
        for _ in range(steps):
            if done_in == 0 or episode.n >= episode.horizon:
                index = episodes % len(surrogates)
                surrogate = surrogates[index].perturbed(rng)
                episode = _start(surrogate, encoder, start, horizon=horizon, rng=rng, prior=priors[index])
                observation = episode.observation()
                done_in, episodes = episode_length, episodes + 1
            action, _ = agent.predict(observation, deterministic=False)
            point = episode.propose(action, rng)
            reward = episode.record(point, surrogate(point, rng), action)
            done_in -= 1
            next_observation = episode.observation()
            buffer.add(
                observation[None],
                next_observation[None],
                np.asarray(action, dtype=np.float32)[None],
                np.array([reward], dtype=np.float32),
                np.array([episode.n >= episode.horizon]),
                [{}],
            )
            observation = next_observation
            if gradient_steps and buffer.size() >= batch_size:
                agent.train(gradient_steps=gradient_steps, batch_size=batch_size)
            bar.update(1)
    end = buffer.pos if not buffer.full else buffer.buffer_size
    kept = slice(max(0, end - keep), end)
    transitions = {name: getattr(buffer, name)[kept, 0].copy() for name in _TRANSITION_FIELDS}
    buffer.reset()
    return transitions


def _start(
    surrogate: SourceSurrogate,
    encoder: SpaceEncoder,
    start: np.ndarray,
    horizon: int,
    rng: np.random.Generator,
    prior: SourcePrior | None = None,
) -> AcquisitionEpisode:
    """An episode with the start points evaluated; the regret's references are the surrogate's
    own, as in pre-training: its best value and the median of random points."""
    points = encoder.snap(np.asarray(start, dtype=float).reshape(-1, encoder.dim))
    if len(points) < N_STARTUP:
        points = np.vstack([points, encoder.snap(rng.uniform(-1.0, 1.0, size=(N_STARTUP - len(points), encoder.dim)))])
    reference = surrogate.values(rng.uniform(-1.0, 1.0, size=(_REFERENCE_POINTS, encoder.dim)))
    episode = AcquisitionEpisode(
        encoder.dim,
        max(horizon, len(points) + 1),
        lower=surrogate.lower,
        center=float(np.median(reference)),
        snap=encoder.snap,
        categorical=encoder.categorical,
        prior=prior,
    )
    for point in points:
        episode.record(point, surrogate(point, rng))
    return episode


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


MAX_WEIGHTS_BYTES = 64 * 2**20  # the .npz members' declared sizes together; a cached agent takes about 1 MB


def load_weights(agent, data: bytes, *, max_bytes: int = MAX_WEIGHTS_BYTES) -> dict[str, np.ndarray]:
    """Put weights written by ``weights_to_bytes`` into ``agent`` (same architecture) and
    return the transitions stored with them (empty if none).

    The bytes may come from a storage others write to, so they are checked before the agent
    changes: a ``ValueError`` says what is wrong if they are not a ``.npz`` archive, if its
    members declare more than ``max_bytes`` uncompressed (checked before anything is
    decompressed), if a network tensor is missing, unexpected or of another shape, if the
    transitions are incomplete or of unequal lengths, or if any value is not a finite number."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            declared = sum(member.file_size for member in archive.infolist())
    except Exception as err:  # zipfile reports corrupt headers as BadZipFile, OSError, NotImplementedError ...
        raise ValueError(f"not a .npz archive ({type(err).__name__}: {err})") from None
    if declared > max_bytes:
        raise ValueError(f"its arrays declare {declared} bytes uncompressed; at most {max_bytes} are read")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except Exception as err:  # corrupt bytes surface as zlib, zipfile, struct or NumPy errors alike
        raise ValueError(f"an array cannot be read ({type(err).__name__}: {err})") from None
    for name, array in arrays.items():
        if array.dtype.kind not in "fiub" or not np.isfinite(array).all():
            raise ValueError(f"array {name!r} holds values that are not finite numbers")
    state = agent.policy.state_dict()
    weights = {n: a for n, a in arrays.items() if n != _ENT_COEF and not n.startswith(_TRANSITION_PREFIX)}
    if set(weights) != set(state):
        missing, extra = sorted(set(state) - set(weights)), sorted(set(weights) - set(state))
        raise ValueError(f"the network tensors differ from the agent's (missing {missing[:3]}, unexpected {extra[:3]})")
    for name, array in weights.items():
        if tuple(array.shape) != tuple(state[name].shape):
            raise ValueError(f"tensor {name!r} has shape {array.shape}, the agent's {tuple(state[name].shape)}")
    transitions = {n[len(_TRANSITION_PREFIX) :]: a for n, a in arrays.items() if n.startswith(_TRANSITION_PREFIX)}
    if transitions:
        if set(transitions) != set(_TRANSITION_FIELDS):
            raise ValueError(f"the transitions have fields {sorted(transitions)}; expected {list(_TRANSITION_FIELDS)}")
        lengths = {len(a) if a.ndim else -1 for a in transitions.values()}
        if len(lengths) != 1 or -1 in lengths:
            raise ValueError("the transitions' fields have unequal lengths")
        shapes = {
            "observations": agent.observation_space.shape,
            "next_observations": agent.observation_space.shape,
            "actions": agent.action_space.shape,
            "rewards": (),
        }
        for name, shape in shapes.items():
            if tuple(transitions[name].shape[1:]) != tuple(shape):
                raise ValueError(f"transitions {name!r} have shape {transitions[name].shape[1:]} per step, not {shape}")
    entropy = arrays.get(_ENT_COEF)
    has_entropy = getattr(agent, _ENT_COEF, None) is not None
    if entropy is not None and has_entropy and entropy.shape != tuple(agent.log_ent_coef.shape):
        raise ValueError(f"{_ENT_COEF} has shape {entropy.shape}, the agent's {tuple(agent.log_ent_coef.shape)}")
    agent.policy.load_state_dict({name: th.as_tensor(array) for name, array in weights.items()})
    if entropy is not None and has_entropy:
        with th.no_grad():
            agent.log_ent_coef.copy_(th.as_tensor(entropy))
    return transitions
