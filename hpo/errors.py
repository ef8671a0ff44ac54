"""Errors the toolkit raises for bad input."""


class UserError(ValueError):
    """Bad input from a user (argument, file, name): the CLI prints it as one line.

    A subclass of ``ValueError`` so that Python callers can catch it as the standard
    "bad value" error.
    """
