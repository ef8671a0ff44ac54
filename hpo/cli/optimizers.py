"""``hpo optimizers``: list the optimizer registry."""

from __future__ import annotations


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "optimizers",
        help="list the optimizers and the configuration each name stands for",
        description="List the names accepted by --optimizer and hpo.tune(optimizer=...).",
    )
    parser.set_defaults(func=run)


def run(args) -> int:
    from hpo.optimizers import _REGISTRY

    for spec in _REGISTRY.values():
        kinds = "/".join(k for k, ok in (("single", spec.single_objective), ("multi", spec.multi_objective)) if ok)
        print(f"{spec.name:26s} [{kinds}-objective] {spec.description}")
        print(f"{'':26s} = {spec.configuration}")
    return 0
