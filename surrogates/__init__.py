"""Electrode manufacturing -> P2D -> surrogate -> Pareto pipeline (``hpo electrode``).

One job per module, imported on demand (pybamm and scikit-learn are heavy):

- :mod:`surrogates.manufacturing`: process parameters (AM, SC, CD, loading) -> microstructure;
- :mod:`surrogates.calibration`: the relations' fit to Table S3, its bootstrap, the calibrated domain;
- :mod:`surrogates.p2d`: PyBaMM DFN NMC111 / graphite full cell built once, stack-level energy at C/5 and at 3C;
- :mod:`surrogates.dataset`: scrambled Sobol design, parallel, resumable CSV;
- :mod:`surrogates.models`: four scikit-learn regressors compared by k-fold CV;
- :mod:`surrogates.pareto`: pymoo problem/algorithms, Optuna baselines, hypervolume, P2D validation;
- :mod:`surrogates.design`: inverse design (best 3C energy at a C/5 energy >= X, and the converse).

See ``docs/electrode.md``.
"""
