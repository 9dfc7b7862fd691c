"""One error type and one message shape for everything a user can get wrong.

Every message says what was expected, what was got and how to fix it, on one
line, so a notebook shows it as a single readable sentence (the magics turn
these into IPython ``UsageError``s) and the command line prints it as is.
"""

from __future__ import annotations

from typing import Any

# The devices a model step may ask for, everywhere (steps, magics, widgets, CLI).
DEVICES = ("auto", "cpu", "gpu")


class BeamMLError(ValueError):
    """A problem with the user's input: data, files, options or models.

    >>> str(BeamMLError.expected("a CSV file", "'x.txt'", "pass --format csv"))
    "expected a CSV file, got 'x.txt': pass --format csv"
    """

    @classmethod
    def expected(cls, what: str, got: Any, fix: str | None = None) -> BeamMLError:
        message = f"expected {what}, got {got}"
        if fix:
            message += f": {fix}"
        return cls(message)


def one_line(text: str, limit: int = 300) -> str:
    """Fold ``text`` onto one line of at most ``limit`` characters."""
    folded = " ".join(str(text).split())
    return folded if len(folded) <= limit else folded[: limit - 1] + "…"


def check_choice(name: str, value: Any, choices: tuple[str, ...] | list[str]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise one clear error.

    >>> check_choice("device", "cpu", ("auto", "cpu", "gpu"))
    'cpu'
    """
    if value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise BeamMLError.expected(f"{name} to be one of {options}", repr(value))
    return str(value)


def check_positive_int(name: str, value: Any, allow_none: bool = False) -> int | None:
    """Return ``value`` as an int if it is a whole number > 0.

    >>> check_positive_int("sample", 10)
    10
    """
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise BeamMLError.expected(
            f"{name} to be a whole number greater than 0", repr(value), f"pass e.g. {name}=1000"
        )
    return value
