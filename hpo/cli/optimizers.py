"""``hpo optimizers``: list the optimizer registry and the pruner registry."""

from __future__ import annotations


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "optimizers",
        help="list the optimizers and pruners and the configuration each name stands for",
        description=(
            "List the names accepted by --optimizer and hpo.tune(optimizer=...), then those "
            "accepted by --pruner and hpo.tune(pruner=...)."
        ),
    )
    parser.set_defaults(func=run)


def run(args) -> int:
    from hpo.optimizers import _REGISTRY
    from hpo.pruners import _REGISTRY as PRUNERS

    print("optimizers (--optimizer):")
    for spec in _REGISTRY.values():
        kinds = "/".join(k for k, ok in (("single", spec.single_objective), ("multi", spec.multi_objective)) if ok)
        constrained = ", constraints" if spec.constraints else ""
        print(f"  {spec.name:26s} [{kinds}-objective{constrained}] {spec.description}")
        print(f"  {'':26s} = {spec.configuration}")
    print("\npruners (--pruner; single-objective studies):")
    for spec in PRUNERS.values():
        print(f"  {spec.name:26s} {spec.description}")
        print(f"  {'':26s} = {spec.configuration}")
    return 0
