"""``hpo dynamics``: placeholder until the dynamics part lands."""

from hpo.errors import UserError


def register(subparsers) -> None:
    parser = subparsers.add_parser("dynamics", help="(dynamics: not available yet)")
    parser.set_defaults(func=_unavailable)


def _unavailable(args) -> int:
    raise UserError("the 'dynamics' commands are not available in this version yet")
