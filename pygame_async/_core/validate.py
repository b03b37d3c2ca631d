"""Checks of user input that fail at the call that caused them, naming call and argument."""

from __future__ import annotations

import math


def count(call: str, argument: str, value: object) -> int:
    """Return ``value`` if it is an int >= 0, else raise TypeError or ValueError."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{call}: {argument} must be an int, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{call}: {argument} must be 0 or more, got {value}")
    return value


def seconds(call: str, argument: str, value: object) -> float | None:
    """Return ``value`` if it is None or a finite number of seconds >= 0."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(
            f"{call}: {argument} must be a number of seconds or None, got {type(value).__name__}"
        )
    try:
        finite = math.isfinite(value)
    except OverflowError:  # an int beyond float range
        raise ValueError(f"{call}: {argument} is too large a number of seconds") from None
    if not finite or value < 0:
        raise ValueError(f"{call}: {argument} must be a finite number of seconds >= 0, got {value}")
    return float(value)


def name(call: str, value: object) -> str:
    """Return ``value`` if it is a non-empty str naming a function."""
    if not isinstance(value, str):
        raise TypeError(f"{call}: name must be a str, got {type(value).__name__}")
    if not value:
        raise ValueError(f"{call}: name must not be empty")
    return value


def positive_or_none(call: str, argument: str, value: object) -> int | None:
    """Return ``value`` if it is None or an int >= 1."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{call}: {argument} must be an int or None, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{call}: {argument} must be 1 or more, got {value}")
    return value


def one_of(call: str, argument: str, value: object, choices: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of the strings ``choices``."""
    if not isinstance(value, str):
        raise TypeError(
            f"{call}: {argument} must be one of {', '.join(map(repr, choices))}, "
            f"got {type(value).__name__}"
        )
    if value not in choices:
        raise ValueError(
            f"{call}: {argument} must be one of {', '.join(map(repr, choices))}, got {value!r}"
        )
    return value


def priority(caller: str, value: object) -> int:
    """Check a call's priority: an int (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{caller}: priority must be an int, got {type(value).__name__}")
    return value
