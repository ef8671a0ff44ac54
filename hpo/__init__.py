"""hpo: hyperparameter and multi-objective optimization toolkit."""

__version__ = "0.1.0"
