#!/bin/sh
# The peers extra: the field's optimizers as registry entries (hebo, smac, ngopt, syne-tune-bo;
# docs/tuning.md). Run from the repository root, in the project's environment.
#
# HEBO and Syne Tune cannot be plain pip requirements here:
# - HEBO 0.3.6 pins numpy<1.25 and pymoo==0.6.0 (this project runs NumPy 2 and pymoo 0.6.2)
#   and requires GPy and CatBoost, which the GP path it runs on never imports; it runs
#   unchanged on NumPy 2, so it is installed without its dependencies, next to those it imports
#   (gpytorch and disjoint-set, in the extra).
# - Syne Tune 0.16 requires xgboost, whose Linux wheel pulls a 350 MB NCCL (GPU) wheel; its BO
#   searcher needs BoTorch instead, and only its transfer searchers import xgboost, which the
#   CPU build xgboost-cpu (in the extra) provides; its quantile-based transfer searcher also
#   imports huggingface_hub (in the extra). Its other requirements (dill, pandas,
#   scikit-learn, tqdm, psutil, sortedcontainers) are the extra's or the project's;
#   statsmodels is used only by its KDE searcher, not installed.
set -eu
PYTHON="${PYTHON:-python}"
"$PYTHON" -m pip install -e ".[peers]"
"$PYTHON" -m pip install --no-deps "HEBO==0.3.6" "syne-tune==0.16.0"
