"""Small argument types shared by the step kinds' ``%beam_ml`` forms."""

from __future__ import annotations

import argparse


def positive_int(value: str) -> int:
    """argparse type: a whole number > 0.

    >>> positive_int("5")
    5
    """
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number <= 0:
        raise argparse.ArgumentTypeError(f"expected a whole number > 0, got {value!r}")
    return number
