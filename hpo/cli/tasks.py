"""``hpo tasks``: list the built-in tuning tasks."""

from __future__ import annotations


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "tasks",
        help="list the built-in tuning tasks",
        description="List the built-in tasks that 'hpo tune TASK' accepts, with their search spaces.",
    )
    parser.set_defaults(func=run)


def run(args) -> int:
    from hpo.tasks import TASKS

    for task in TASKS.values():
        print(f"{task.name:20s} {task.direction:9s} {task.description}")
        for name, dist in task.space.items():
            print(f"{'':20s}   {name}: {dist}")
    return 0
