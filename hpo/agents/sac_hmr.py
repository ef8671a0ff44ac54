"""SAC with hierarchical mixture regularization (HMR), as reconstructed in
``docs/sac-hmr.md`` (the paper's method section could not be obtained; that page says
which parts are the paper's and which are this project's interpretation).

HMR is mixup inside the SAC update: at each gradient step (with probability ``hmr_prob``)
each sample i of the minibatch is mixed with a partner ``perm(i)`` with its own
``lambda_i ~ Beta(hmr_alpha, hmr_alpha)``, folded to ``max(lambda_i, 1 - lambda_i)`` so the
sample i stays dominant (MixReg's convention). One mixing level is drawn per step:

* critic: level 0 mixes the critic input ``[features(s), a]``, level k >= 1 the activations
  after the k-th hidden layer; the TD targets are computed per real sample exactly as SB3
  does and then mixed with the same coefficients (so differing ``done`` flags stay right);
  both critics share the level, lambdas and permutation, so ``min(Q1, Q2)`` stays consistent;
* actor (``hmr_actor_levels``, default input only): the actor's features (level 0) or its
  hidden activations (level k) are mixed, and the critic judges the resulting action at the
  input-level mixture of the states;
* the temperature loss, the target networks and the Polyak updates are left unmixed.

Everything else is SB3's ``SAC``; only ``train`` is overridden. With ``hmr_prob=0`` (or no
levels) no random number is drawn for mixing and the update is SB3's, operation by
operation (``tests/hpo/agents/test_sac_hmr.py`` compares all parameters after the same seeded run).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch as th
from stable_baselines3 import SAC
from stable_baselines3.common.utils import polyak_update
from stable_baselines3.sac.policies import LOG_STD_MAX, LOG_STD_MIN
from torch import nn
from torch.nn import functional as F

from hpo.errors import UserError
from hpo.validation import check_real

DEFAULT_HMR_ALPHA = 0.2  # MixReg's default
DEFAULT_CRITIC_LEVELS = (0, 1, 2)
DEFAULT_ACTOR_LEVELS = (0,)


@dataclass
class MixPlan:
    """The mixing of one gradient step: per-sample weights, partners and levels
    (``None``: that network is not mixed at this step)."""

    lam: th.Tensor  # (batch, 1), each >= 0.5: the sample itself dominates
    perm: th.Tensor  # (batch,)
    critic_level: int | None
    actor_level: int | None

    def blend(self, tensor: th.Tensor) -> th.Tensor:
        return self.lam * tensor + (1.0 - self.lam) * tensor[self.perm]


def forward_mixed(network: nn.Sequential, x: th.Tensor, level: int, plan: MixPlan) -> th.Tensor:
    """Run ``network`` module by module and mix at ``level``: 0 mixes its input, k >= 1 the
    output of its k-th activation (SB3's MLPs alternate Linear and activation modules)."""
    if level == 0:
        x = plan.blend(x)
    seen_activations = 0
    for module in network:
        x = module(x)
        if not isinstance(module, nn.Linear):
            seen_activations += 1
            if seen_activations == level:
                x = plan.blend(x)
    return x


def hidden_layer_count(network: nn.Sequential) -> int:
    return sum(not isinstance(module, nn.Linear) for module in network)


def _check_levels(name: str, levels: Any) -> tuple[int, ...]:
    if isinstance(levels, (str, bytes)) or not isinstance(levels, Sequence):
        raise UserError(f"{name} must be a sequence of non-negative integers, got {levels!r}")
    checked = []
    for level in levels:
        if isinstance(level, bool) or not isinstance(level, numbers.Integral) or level < 0:
            raise UserError(f"{name} must hold non-negative integers, got {level!r} in {levels!r}")
        checked.append(int(level))
    if len(set(checked)) != len(checked):
        raise UserError(f"{name} has repeated levels: {levels!r}")
    return tuple(checked)


class SACHMR(SAC):
    """``stable_baselines3.SAC`` with HMR in its update; the other arguments are SAC's.

    Parameters
    ----------
    hmr_alpha:
        Beta(alpha, alpha) parameter of the mixing weights (> 0; small values mix little).
    hmr_critic_levels:
        Levels the critic may be mixed at: 0 = input, k = after hidden layer k (at most the
        number of hidden layers of ``net_arch``).
    hmr_actor_levels:
        Same for the actor; ``()`` leaves the actor unmixed.
    hmr_prob:
        Probability that a gradient step mixes at all; 0 gives plain SAC.
    """

    def __init__(
        self,
        policy,
        env,
        *args,
        hmr_alpha: float = DEFAULT_HMR_ALPHA,
        hmr_critic_levels: Sequence[int] = DEFAULT_CRITIC_LEVELS,
        hmr_actor_levels: Sequence[int] = DEFAULT_ACTOR_LEVELS,
        hmr_prob: float = 1.0,
        **kwargs,
    ):
        self.hmr_alpha = check_real("hmr_alpha", hmr_alpha, 0, exclusive_minimum=True)
        self.hmr_prob = check_real("hmr_prob", hmr_prob, 0, maximum=1)
        self.hmr_critic_levels = _check_levels("hmr_critic_levels", hmr_critic_levels)
        self.hmr_actor_levels = _check_levels("hmr_actor_levels", hmr_actor_levels)
        super().__init__(policy, env, *args, **kwargs)
        if self.hmr_actor_levels and self.use_sde:
            raise UserError("hmr_actor_levels must be () with use_sde=True (gSDE has no log_std head to mix)")

    def _check_levels_fit_networks(self) -> None:
        critic_depth = hidden_layer_count(self.critic.q_networks[0])
        actor_depth = hidden_layer_count(self.actor.latent_pi)
        for name, levels, depth in (
            ("hmr_critic_levels", self.hmr_critic_levels, critic_depth),
            ("hmr_actor_levels", self.hmr_actor_levels, actor_depth),
        ):
            too_deep = [level for level in levels if level > depth]
            if too_deep:
                raise UserError(
                    f"{name}={levels!r}: level(s) {too_deep} exceed the {depth} hidden layer(s) "
                    f"of the network; allowed: 0..{depth}"
                )

    def _draw_mix_plan(self, batch_size: int) -> MixPlan | None:
        # No draw at all when mixing is off, so the RNG streams match SB3's SAC exactly.
        if self.hmr_prob == 0 or not (self.hmr_critic_levels or self.hmr_actor_levels):
            return None
        if self.hmr_prob < 1 and th.rand(()).item() >= self.hmr_prob:
            return None
        beta = th.distributions.Beta(th.tensor(self.hmr_alpha), th.tensor(self.hmr_alpha))
        lam = beta.sample((batch_size, 1)).to(self.device)
        lam = th.maximum(lam, 1.0 - lam)
        perm = th.randperm(batch_size, device=self.device)

        def pick(levels: tuple[int, ...]) -> int | None:
            return levels[int(th.randint(len(levels), ()).item())] if levels else None

        return MixPlan(lam, perm, pick(self.hmr_critic_levels), pick(self.hmr_actor_levels))

    def _critic_values(self, obs: th.Tensor, actions: th.Tensor, plan: MixPlan | None) -> tuple[th.Tensor, ...]:
        if plan is None or plan.critic_level is None:
            return self.critic(obs, actions)
        critic = self.critic
        with th.set_grad_enabled(not critic.share_features_extractor):
            features = critic.extract_features(obs, critic.features_extractor)
        critic_input = th.cat([features, actions], dim=1)
        return tuple(forward_mixed(q_net, critic_input, plan.critic_level, plan=plan) for q_net in critic.q_networks)

    def _mixed_actor_action_log_prob(self, obs: th.Tensor, plan: MixPlan) -> tuple[th.Tensor, th.Tensor]:
        actor = self.actor
        features = actor.extract_features(obs, actor.features_extractor)
        latent_pi = forward_mixed(actor.latent_pi, features, plan.actor_level, plan=plan)
        mean_actions = actor.mu(latent_pi)
        log_std = th.clamp(actor.log_std(latent_pi), LOG_STD_MIN, LOG_STD_MAX)
        return actor.action_dist.log_prob_from_params(mean_actions, log_std)

    def train(self, gradient_steps: int, batch_size: int = 64) -> None:
        # The structure and every unmixed operation follow SB3's SAC.train (2.9) line by line.
        if gradient_steps > 0:
            self._check_levels_fit_networks()
        self.policy.set_training_mode(True)
        optimizers = [self.actor.optimizer, self.critic.optimizer]
        if self.ent_coef_optimizer is not None:
            optimizers += [self.ent_coef_optimizer]
        self._update_learning_rate(optimizers)

        ent_coef_losses, ent_coefs = [], []
        actor_losses, critic_losses = [], []
        unmixed_critic_losses, mix_levels, actor_mix_levels, mix_lambdas = [], [], [], []

        for gradient_step in range(gradient_steps):
            replay_data = self.replay_buffer.sample(batch_size, env=self._vec_normalize_env)  # type: ignore[union-attr]
            discounts = replay_data.discounts if replay_data.discounts is not None else self.gamma
            if self.use_sde:
                self.actor.reset_noise()

            # Unmixed policy sample: the temperature loss uses it, as in SB3.
            actions_pi, log_prob = self.actor.action_log_prob(replay_data.observations)
            log_prob = log_prob.reshape(-1, 1)

            ent_coef_loss = None
            if self.ent_coef_optimizer is not None and self.log_ent_coef is not None:
                ent_coef = th.exp(self.log_ent_coef.detach())
                assert isinstance(self.target_entropy, float)
                ent_coef_loss = -(self.log_ent_coef * (log_prob + self.target_entropy).detach()).mean()
                ent_coef_losses.append(ent_coef_loss.item())
            else:
                ent_coef = self.ent_coef_tensor
            ent_coefs.append(ent_coef.item())
            if ent_coef_loss is not None and self.ent_coef_optimizer is not None:
                self.ent_coef_optimizer.zero_grad()
                ent_coef_loss.backward()
                self.ent_coef_optimizer.step()

            # TD targets per real sample (unmixed target networks), mixed below if mixing.
            with th.no_grad():
                next_actions, next_log_prob = self.actor.action_log_prob(replay_data.next_observations)
                next_q_values = th.cat(self.critic_target(replay_data.next_observations, next_actions), dim=1)
                next_q_values, _ = th.min(next_q_values, dim=1, keepdim=True)
                next_q_values = next_q_values - ent_coef * next_log_prob.reshape(-1, 1)
                target_q_values = replay_data.rewards + (1 - replay_data.dones) * discounts * next_q_values

            plan = self._draw_mix_plan(replay_data.observations.shape[0])
            critic_mixed = plan is not None and plan.critic_level is not None
            current_q_values = self._critic_values(replay_data.observations, replay_data.actions, plan)
            critic_targets = plan.blend(target_q_values) if critic_mixed else target_q_values
            critic_loss = 0.5 * sum(F.mse_loss(current_q, critic_targets) for current_q in current_q_values)
            assert isinstance(critic_loss, th.Tensor)
            critic_losses.append(critic_loss.item())
            if critic_mixed:
                mix_levels.append(plan.critic_level)
                mix_lambdas.append(plan.lam.mean().item())
                with th.no_grad():  # logged only: how far the mixed loss is from SB3's
                    plain = self.critic(replay_data.observations, replay_data.actions)
                    unmixed_critic_losses.append((0.5 * sum(F.mse_loss(q, target_q_values) for q in plain)).item())

            self.critic.optimizer.zero_grad()
            critic_loss.backward()
            self.critic.optimizer.step()

            if plan is not None and plan.actor_level is not None:
                actor_obs = plan.blend(replay_data.observations)
                actions_pi, log_prob = self._mixed_actor_action_log_prob(replay_data.observations, plan)
                log_prob = log_prob.reshape(-1, 1)
                actor_mix_levels.append(plan.actor_level)
            else:
                actor_obs = replay_data.observations
            q_values_pi = th.cat(self.critic(actor_obs, actions_pi), dim=1)
            min_qf_pi, _ = th.min(q_values_pi, dim=1, keepdim=True)
            actor_loss = (ent_coef * log_prob - min_qf_pi).mean()
            actor_losses.append(actor_loss.item())

            self.actor.optimizer.zero_grad()
            actor_loss.backward()
            self.actor.optimizer.step()

            if gradient_step % self.target_update_interval == 0:
                polyak_update(self.critic.parameters(), self.critic_target.parameters(), self.tau)
                polyak_update(self.batch_norm_stats, self.batch_norm_stats_target, 1.0)

        self._n_updates += gradient_steps

        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/ent_coef", np.mean(ent_coefs))
        self.logger.record("train/actor_loss", np.mean(actor_losses))
        self.logger.record("train/critic_loss", np.mean(critic_losses))
        if len(ent_coef_losses) > 0:
            self.logger.record("train/ent_coef_loss", np.mean(ent_coef_losses))
        # HMR diagnostics: fraction of mixed steps, mean level and lambda, unmixed loss.
        if gradient_steps > 0:
            self.logger.record("train/hmr_mixed_fraction", len(mix_levels) / gradient_steps)
        if mix_levels:
            self.logger.record("train/hmr_level", float(np.mean(mix_levels)))
            self.logger.record("train/hmr_lambda_mean", float(np.mean(mix_lambdas)))
            self.logger.record("train/critic_loss_unmixed", float(np.mean(unmixed_critic_losses)))
        if actor_mix_levels:
            self.logger.record("train/hmr_actor_level", float(np.mean(actor_mix_levels)))
