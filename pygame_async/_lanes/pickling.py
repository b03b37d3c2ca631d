"""Pickling what a call needs to run elsewhere, with errors that name the culprit.

Shared by the lanes whose calls run outside the game process (worker
processes, dask workers): a definition is pickled once, by value, at
``define()``; a call's arguments at ``call()``, so a bad one fails there.
When pickling fails, the error says which argument, or what the function
closes over, uses as a global or has as a default, cannot be sent, and
what to send instead.
"""

from __future__ import annotations

import contextlib
import functools
import types
from collections.abc import Callable
from typing import Any

from pygame_async._core import arguments_apart, serialization


def pickle_definition(name: str, function: Callable[..., Any]) -> bytes:
    """Pickle a function by value for ``define(name, function)``; TypeError naming the culprit."""
    try:
        return serialization.dumps(function)
    except Exception as exc:
        raise TypeError(
            f"define({name!r}, function): the function cannot be sent to workers: "
            f"{_why_unpicklable(function, exc)}"
        ) from exc


def pickle_arguments(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bytes:
    """Pickle a call's arguments for ``call(name)``; TypeError naming the one that cannot be."""
    try:
        return serialization.dumps_arguments(args, kwargs)
    except Exception as exc:
        raise _unpicklable_arguments(name, args, kwargs, exc) from exc


def pickle_arguments_apart(
    name: str, args: tuple[Any, ...], kwargs: dict[str, Any], snapshot: arguments_apart.Snapshot
) -> bytes | arguments_apart.Apart:
    """As :func:`pickle_arguments`, with big raw buffers apart (``dumps_arguments_apart``)."""
    try:
        return arguments_apart.dumps_arguments_apart(args, kwargs, snapshot)
    except Exception as exc:
        raise _unpicklable_arguments(name, args, kwargs, exc) from exc


def _unpicklable_arguments(
    name: str, args: tuple[Any, ...], kwargs: dict[str, Any], exc: Exception
) -> TypeError:
    """Make the error ``call(name)`` raises for arguments that cannot be pickled, named."""
    culprit, error = _find_unpicklable(args, kwargs, exc)
    if isinstance(error, serialization.UnsendableError):
        reason = error.advice("call")
    else:
        reason = f"{type(error).__name__}: {error}"
    return TypeError(f"call({name!r}): {culprit} cannot be sent to a worker: {reason}")


def _find_unpicklable(
    args: tuple[Any, ...], kwargs: dict[str, Any], error: Exception
) -> tuple[str, Exception]:
    """Name the argument that cannot be pickled, with what it is, and its own error."""
    named = [(f"argument {index + 1}", value) for index, value in enumerate(args)]
    named += [(f"keyword argument {key!r}", value) for key, value in kwargs.items()]
    for label, value in named:
        try:
            serialization.dumps(value)
        except Exception as exc:
            if isinstance(exc, serialization.UnsendableError):
                return f"{label} ({exc.found_in(value)})", exc
            return f"{label} ({serialization.describe(value)})", exc
    return "an argument", error


_SEARCH_DEPTH = 3  # how far into what a function uses its culprit is looked for


def _why_unpicklable(function: Callable[..., Any], error: Exception) -> str:
    """Say why ``function`` cannot be pickled, naming what it uses that cannot be.

    Runs only once pickling has failed: each thing the function closes over,
    uses as a global, or has as a default is pickled alone until one fails;
    a function among them is searched in turn.
    """
    label, value, culprit_error = _find_captured(function, error, _SEARCH_DEPTH)
    if isinstance(culprit_error, serialization.UnsendableError):
        if label is None:
            found = f"it is {culprit_error.found_in(function)}"
        else:
            found = f"{label} ({culprit_error.found_in(value)})"
        return f"{found}: {culprit_error.advice('define')}"
    reason = f"{type(culprit_error).__name__}: {culprit_error}"
    if label is None:
        return reason
    return f"{label} ({serialization.describe(value)}): {reason}"


def _find_captured(
    function: object, error: Exception, depth: int
) -> tuple[str | None, object, Exception]:
    """Return what of ``function`` cannot be pickled: a label, the value and its error.

    The label reads after the function, as "it closes over 'name'"; a value
    found inside a function it uses reads "it closes over 'helper', which
    closes over 'name'".  No label when nothing finer than the function is found.
    """
    for label, value in _captured(function):
        try:
            serialization.dumps(value)
        except Exception as exc:
            if depth > 1 and callable(value):
                inner, inner_value, inner_error = _find_captured(value, exc, depth - 1)
                if inner is not None:
                    return f"{label}, {_relative(inner)}", inner_value, inner_error
            return label, value, exc
    return None, function, error


def _relative(label: str) -> str:
    """Turn "it closes over 'x'" into "which closes over 'x'", "its ..." into "whose ..."."""
    for subject, relative in (("its ", "whose "), ("it ", "which ")):
        if label.startswith(subject):
            return relative + label[len(subject) :]
    return label


def _captured(function: object) -> list[tuple[str, object]]:
    """List what pickling ``function`` by value pickles with it, each with a label."""
    if isinstance(function, functools.partial):
        parts: list[tuple[str, object]] = [("its partial function", function.func)]
        parts += [(f"its partial argument {i + 1}", v) for i, v in enumerate(function.args)]
        parts += [(f"its partial keyword argument {k!r}", v) for k, v in function.keywords.items()]
        return parts
    if isinstance(function, types.MethodType):
        return [
            ("it is a method of an object", function.__self__),
            ("its function", function.__func__),
        ]
    if not isinstance(function, types.FunctionType):
        return []
    code = function.__code__
    parts = []
    for name, cell in zip(code.co_freevars, function.__closure__ or (), strict=False):
        with contextlib.suppress(ValueError):  # an empty cell: nothing is sent for it
            parts.append((f"it closes over {name!r}", cell.cell_contents))
    for name in _global_names(code):
        if name in function.__globals__:
            parts.append((f"it uses the global {name!r}", function.__globals__[name]))
    parameters = code.co_varnames[: code.co_argcount]
    defaults = function.__defaults__ or ()
    for name, value in zip(parameters[len(parameters) - len(defaults) :], defaults, strict=True):
        parts.append((f"its default for {name!r}", value))
    for name, value in (function.__kwdefaults__ or {}).items():
        parts.append((f"its default for {name!r}", value))
    for name, value in vars(function).items():
        parts.append((f"its attribute {name!r}", value))
    return parts


def _global_names(code: types.CodeType) -> list[str]:
    """List the names a code object and the code nested in it may look up as globals."""
    names: dict[str, None] = {}
    stack = [code]
    while stack:
        inner = stack.pop()
        names.update(dict.fromkeys(inner.co_names))
        stack.extend(const for const in inner.co_consts if isinstance(const, types.CodeType))
    return list(names)
