"""The digits MLP: a fully connected ReLU network on scikit-learn's digits (64 inputs, 10
classes), its data split and its training, in one place for everything that trains one: the
default model of ``hpo dynamics lr-range`` and of the learning-rate and pruning experiments
(SGD on ``MSELoss`` to one-hot targets, torch's mean convention, ``loss="mse"`` in
:mod:`hpo.dynamics`), and the benchmarks' ``mlp-digits`` tuning task (AdamW on cross-entropy,
six hyperparameters; ``benchmarks.ml_tasks``).

Standard PyTorch parametrisation and initialisation (``nn.Linear``). The digits are split 1000
train / 397 validation / 400 test, features standardised on the train part. A run takes about
a second on one core. A run whose training loss stops being finite has diverged: its error is
1.0, so an optimizer learns from it instead of losing the trial.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import optuna
import torch
from torch import nn

from hpo.validation import check_choice, check_int

N_FEATURES = 64  # 8 x 8 pixels
N_CLASSES = 10
OPTIMIZERS = ("sgd", "adamw")
LOSSES = ("mse", "cross-entropy")


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
class DigitsMLP:
    """The data (``data[split]``: standardised inputs and labels of ``train``, ``val``,
    ``test``) and the default architecture and schedule of the digits MLP."""

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

    def probe(self, size: int = 256, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """``size`` training inputs with the one-hot targets the SGD training fits: the probe
        set of :func:`hpo.dynamics.lr_range` and of the NTK sharpness at initialisation."""
        inputs, labels = self.data["train"]
        check_int("probe size", size, 1, maximum=len(inputs))
        order = torch.randperm(len(inputs), generator=torch.Generator().manual_seed(seed))[:size]
        return inputs[order], nn.functional.one_hot(labels[order], N_CLASSES).to(inputs.dtype)

    def train(
        self,
        lr: float,
        *,
        optimizer: str = "sgd",
        loss: str = "mse",
        weight_decay: float = 0.0,
        hidden: int | None = None,
        depth: int | None = None,
        batch_size: int | None = None,
        epochs: int | None = None,
        seed: int = 0,
        split: str = "val",
        reporter=None,
    ) -> nn.Module | None:
        """A fresh model (initialised with ``seed``, minibatches drawn with ``seed``) trained
        at learning rate ``lr``; ``None`` if the training loss diverged. Architecture and
        schedule default to the instance's.

        ``reporter`` (the second argument of an ``hpo.tune`` objective, see ``hpo.pruners``):
        after every epoch the mean training loss and the error on ``split`` are reported and
        a trial the pruner stops raises ``optuna.TrialPruned``."""
        check_choice("optimizer", optimizer, OPTIMIZERS)
        check_choice("loss", loss, LOSSES)
        model = build_mlp(hidden or self.hidden, depth or self.depth, seed)
        inputs, labels = self.data["train"]
        targets = nn.functional.one_hot(labels, N_CLASSES).float() if loss == "mse" else labels
        loss_fn = nn.MSELoss() if loss == "mse" else nn.CrossEntropyLoss()
        if optimizer == "sgd":
            step = torch.optim.SGD(model.parameters(), lr=lr, weight_decay=weight_decay)
        else:
            step = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
        generator = torch.Generator().manual_seed(seed)
        for epoch in range(epochs or self.epochs):
            losses = []
            for batch in torch.randperm(len(inputs), generator=generator).split(batch_size or self.batch_size):
                step.zero_grad()
                value = loss_fn(model(inputs[batch]), targets[batch])
                if not torch.isfinite(value):
                    return None
                value.backward()
                step.step()
                losses.append(value.item())
            if reporter is not None:
                reporter.report_loss(float(np.mean(losses)), epoch)
                reporter.report(self.error(model, split), epoch)
                if reporter.should_prune():
                    raise optuna.TrialPruned(f"pruned after epoch {epoch + 1}")
        return model

    def train_and_evaluate(self, lr: float, *, seed: int = 0, split: str = "val", reporter=None) -> float:
        """Classification error on ``split`` of a model trained by SGD on MSE at learning
        rate ``lr`` with the instance's architecture and schedule (1.0 if diverged)."""
        model = self.train(lr, seed=seed, split=split, reporter=reporter)
        return 1.0 if model is None else self.error(model, split)

    def error(self, model: nn.Module | None, split: str = "val") -> float:
        """Classification error of ``model`` on ``split`` (1.0 for a diverged model or
        non-finite outputs)."""
        if model is None:
            return 1.0
        with torch.no_grad():
            outputs = model(self.data[split][0])
        if not torch.isfinite(outputs).all():
            return 1.0
        return float((outputs.argmax(dim=1) != self.data[split][1]).float().mean())
