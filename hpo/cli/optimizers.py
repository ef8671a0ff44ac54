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
    for entry in _REGISTRY.values():
        kinds = "/".join(k for k, ok in (("single", entry.single_objective), ("multi", entry.multi_objective)) if ok)
        constrained = ", constraints" if entry.constraints else ""
        print(f"  {entry.name:26s} [{kinds}-objective{constrained}] {entry.description}")
        print(f"  {'':26s} = {entry.configuration}")
    print("\npruners (--pruner; single-objective studies):")
    for entry in PRUNERS.values():
        print(f"  {entry.name:26s} {entry.description}")
        print(f"  {'':26s} = {entry.configuration}")
    return 0
