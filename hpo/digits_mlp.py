"""The digits MLP: a fully connected ReLU network on scikit-learn's digits (64 inputs, 10
classes), built once here (``build_mlp``) for every task that trains one: the benchmarks'
``mlp-digits`` tuning task (AdamW, cross-entropy) and ``DigitsMLPTask`` below, the default
model of ``hpo dynamics lr-range`` and of the learning-rate experiments.

``DigitsMLPTask``: standard PyTorch parametrisation and initialisation (``nn.Linear``), ReLU, trained by
mini-batch SGD on ``MSELoss`` to one-hot targets (torch's mean convention, ``loss="mse"`` in
:mod:`hpo.dynamics`). A trial takes about a second on one core. The objective is the
validation error; a diverged run scores 1.0, so the optimizer learns from it instead of losing
the trial.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import optuna
import torch
from torch import nn

from hpo.validation import check_int

N_FEATURES = 64  # 8 x 8 pixels
N_CLASSES = 10


def build_mlp(hidden: int, depth: int, seed: int) -> nn.Module:
    """``depth`` hidden ReLU layers of width ``hidden``, PyTorch's default initialization
    drawn after ``torch.manual_seed(seed)`` (``nn.Linear`` draws from the global generator)."""
    torch.manual_seed(seed)
    layers, width_in = [], N_FEATURES
    for _ in range(depth):
        layers += [nn.Linear(width_in, hidden), nn.ReLU()]
        width_in = hidden
    layers.append(nn.Linear(width_in, N_CLASSES))
    return nn.Sequential(*layers)


@dataclass
class DigitsMLPTask:
    """Digits split 1000 train / 397 validation / 400 test, features standardised on the train part."""

    hidden: int = 128
    depth: int = 2
    batch_size: int = 64
    epochs: int = 10
    split_seed: int = 0
    data: dict = field(init=False, repr=False)

    def __post_init__(self):
        from sklearn.datasets import load_digits
        from sklearn.preprocessing import StandardScaler

        for name in ("hidden", "depth", "batch_size", "epochs"):
            value = getattr(self, name)
            check_int(name, value, 1)
        digits = load_digits()
        order = np.random.default_rng(self.split_seed).permutation(len(digits.target))
        parts = {"train": order[:1000], "val": order[1000:1397], "test": order[1397:]}
        scaler = StandardScaler().fit(digits.data[parts["train"]])
        self.data = {
            name: (
                torch.as_tensor(scaler.transform(digits.data[idx]), dtype=torch.float32),
                torch.as_tensor(digits.target[idx]),
            )
            for name, idx in parts.items()
        }

    def build_model(self, seed: int = 0) -> nn.Module:
        return build_mlp(self.hidden, self.depth, seed)

    def probe_batch(self, size: int = 128, seed: int = 0) -> torch.Tensor:
        """``size`` training inputs, for measuring the NTK sharpness at initialisation."""
        inputs = self.data["train"][0]
        check_int("probe size", size, 1, len(inputs))
        return inputs[torch.randperm(len(inputs), generator=torch.Generator().manual_seed(seed))[:size]]

    def train_and_evaluate(self, lr: float, *, seed: int = 0, split: str = "val", reporter=None) -> float:
        """Train a fresh model at learning rate ``lr``; classification error on ``split`` (1.0 if diverged).

        ``reporter`` (the second argument of an ``hpo.tune`` objective, see ``hpo.pruners``):
        after every epoch the mean training loss and the error on ``split`` are reported and
        a trial the pruner stops raises ``optuna.TrialPruned``."""
        model = self.build_model(seed)
        inputs, labels = self.data["train"]
        targets = nn.functional.one_hot(labels, N_CLASSES).float()
        optimizer = torch.optim.SGD(model.parameters(), lr=lr)
        loss_fn = nn.MSELoss()
        generator = torch.Generator().manual_seed(seed)
        for epoch in range(self.epochs):
            losses = []
            for batch in torch.randperm(len(inputs), generator=generator).split(self.batch_size):
                optimizer.zero_grad()
                loss = loss_fn(model(inputs[batch]), targets[batch])
                if not torch.isfinite(loss):
                    return 1.0
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
            if reporter is not None:
                reporter.report_loss(float(np.mean(losses)), epoch)
                reporter.report(self.error(model, split), epoch)
                if reporter.should_prune():
                    raise optuna.TrialPruned(f"pruned after epoch {epoch + 1}")
        return self.error(model, split)

    def error(self, model: nn.Module, split: str = "val") -> float:
        """Classification error of ``model`` on ``split`` (1.0 for non-finite outputs)."""
        with torch.no_grad():
            outputs = model(self.data[split][0])
        if not torch.isfinite(outputs).all():
            return 1.0
        return float((outputs.argmax(dim=1) != self.data[split][1]).float().mean())
