"""``hpo electrode``: placeholder until the electrode part lands."""

from hpo.errors import UserError


def register(subparsers) -> None:
    parser = subparsers.add_parser("electrode", help="(electrode: not available yet)")
    parser.set_defaults(func=_unavailable)


def _unavailable(args) -> int:
    raise UserError("the 'electrode' commands are not available in this version yet")
