"""Reinforcement-learning agents for tuning: SAC with hierarchical mixture regularization.

``SACHMR`` is stable-baselines3's ``SAC`` with HMR in its update (``sac_hmr``);
``load_agent`` loads a saved ``SAC``/``SACHMR`` zip without unpickling by default;
``pretrain`` trains an agent on synthetic tasks (``pretrain``) and ``pretrained`` holds the
shipped agents. torch and SB3 are imported on first use, so the command line stays quick.
"""

_LAZY = {
    "SACHMR": ("hpo.agents.sac_hmr", "SACHMR"),
    "load_agent": ("hpo.agents.persistence", "load_agent"),
}

__all__ = list(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        import importlib

        module_name, attribute = _LAZY[name]
        value = getattr(importlib.import_module(module_name), attribute)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'hpo.agents' has no attribute {name!r}")
