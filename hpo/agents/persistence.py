"""Loading SB3 agents (``SAC``/``SACHMR`` zip files) without unpickling by default.

SB3's ``save`` writes a zip with the network weights (loaded by ``torch.load(...,
weights_only=True)``, which is safe) and a JSON ``data`` file in which every attribute that
is not plain JSON is cloudpickled. ``SAC.load`` unpickles those, and unpickling a file from
an untrusted path can run arbitrary code. ``load_agent`` instead reads the JSON itself and
replaces each pickled entry by an object rebuilt from plain data (spaces, the SAC policy
and replay-buffer classes, run-time buffers that SB3 recreates anyway). An entry it cannot
rebuild is an error that names it, unless ``trust_pickled_objects=True`` is given.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3 import SAC
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.sac.policies import SACPolicy

from hpo.agents.sac_hmr import SACHMR
from hpo.errors import UserError

# Run-time state that SB3 rebuilds when training resumes (``_setup_learn``).
_RUNTIME_KEYS = (
    "_last_obs",
    "_last_episode_starts",
    "_last_original_obs",
    "ep_info_buffer",
    "ep_success_buffer",
    "lr_schedule",  # recomputed from learning_rate by _setup_model
)
# SB3's default, used because a pickled TrainFreq shows no fields in the JSON.
_DEFAULT_TRAIN_FREQ = (1, "step")


def load_agent(
    path: str | Path,
    env: gym.Env | Any | None = None,
    *,
    trust_pickled_objects: bool = False,
    device: str = "auto",
    **kwargs: Any,
) -> SAC:
    """Load a ``SAC`` or ``SACHMR`` agent saved with ``model.save(path)``.

    Parameters
    ----------
    path:
        The zip file written by SB3's ``save``.
    env:
        The environment to attach (its spaces must match); optional for prediction only.
    trust_pickled_objects:
        ``True`` unpickles what the safe reader cannot rebuild (only for files you trust);
        then this is exactly SB3's ``load``.
    device, kwargs:
        Passed to SB3's ``load`` (``kwargs`` override saved attributes, e.g. ``train_freq``).
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"path {str(path)!r}: no such file")
    try:
        with zipfile.ZipFile(path) as archive:
            data = json.loads(archive.read("data"))
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as err:
        raise UserError(f"path {str(path)!r}: not an SB3 agent zip ({err})") from None
    algorithm = SACHMR if "hmr_alpha" in data else SAC
    if trust_pickled_objects:
        return algorithm.load(path, env=env, device=device, **kwargs)
    custom_objects = _safe_replacements(data, env, path)
    return algorithm.load(path, env=env, device=device, custom_objects=custom_objects, **kwargs)


def _safe_replacements(data: dict[str, Any], env: Any, path: Path) -> dict[str, Any]:
    replacements: dict[str, Any] = {}
    refused = []
    for key, item in data.items():
        if not (isinstance(item, dict) and ":serialized:" in item):
            continue
        if key in _RUNTIME_KEYS:
            replacements[key] = None
        elif key == "train_freq":
            replacements[key] = _DEFAULT_TRAIN_FREQ
        elif key == "policy_class" and _is_class_from(
            item, "stable_baselines3.sac.policies", "Policy class (with both actor and critic) for SAC"
        ):
            # CnnPolicy/MultiInputPolicy share the module and docstring; a wrong guess fails
            # loudly below, when the saved weights do not match the rebuilt policy exactly.
            replacements[key] = SACPolicy
        elif key == "replay_buffer_class" and _is_class_from(
            item, "stable_baselines3.common.buffers", "Replay buffer used in off-policy"
        ):
            replacements[key] = ReplayBuffer
        elif key in ("observation_space", "action_space"):
            space = _space_from(env, key) if env is not None else _box_from_json(item)
            if space is None:
                refused.append(key)
            else:
                replacements[key] = space
        else:
            refused.append(key)
    if refused:
        raise UserError(
            f"path {str(path)!r}: loading would unpickle {refused}, which can run code from the "
            "file; pass env= to supply the spaces, or trust_pickled_objects=True for a file you trust"
        )
    return replacements


def _is_class_from(item: dict[str, Any], module: str, doc_start: str) -> bool:
    return item.get("__module__") == module and str(item.get("__doc__", "")).strip().startswith(doc_start)


def _space_from(env: Any, key: str) -> gym.Space:
    unwrapped = getattr(env, "unwrapped", env)
    return getattr(unwrapped, key)


_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def _box_from_json(item: dict[str, Any]) -> gym.spaces.Box | None:
    """Rebuild a float32 ``Box`` with one lower and one upper bound for every entry (the
    kind our environments make) from the JSON summary SB3 stores beside the pickle;
    ``None`` if it is anything else."""
    if item.get(":type:") != "<class 'gymnasium.spaces.box.Box'>" or item.get("dtype") != "float32":
        return None
    try:
        shape = tuple(int(n) for n in json.loads(str(item.get("_shape"))))
    except (json.JSONDecodeError, TypeError, ValueError):
        return None
    size = int(np.prod(shape))
    low = [float(x) for x in _NUMBER.findall(str(item.get("low", "")))]
    high = [float(x) for x in _NUMBER.findall(str(item.get("high", "")))]
    if len(low) != size or len(high) != size or len(set(low)) != 1 or len(set(high)) != 1 or not low[0] < high[0]:
        return None
    return gym.spaces.Box(low[0], high[0], shape=shape, dtype=np.float32)
