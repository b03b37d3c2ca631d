"""One ``load()`` call's assets as they arrive: the Batch, each asset's delivery, its errors.

:func:`start_batch`, called by ``load()``, starts one call of the pool per
asset, each with a :class:`_Job` as its callback pair.  Inside the pool's
``update()``, on the thread that calls it, a job finishes its asset and hands
it, or the :class:`AssetError` it failed with, to the :class:`Batch` the game
watches.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Mapping, Set
from concurrent.futures import CancelledError
from typing import Any, Final

import pygame

from pygame_async._core import serialization as _serialization
from pygame_async._core import validate as _validate
from pygame_async._core.errors import AsyncError
from pygame_async._core.pool import Pool
from pygame_async._core.task import Task
from pygame_async._pygame import asset_decoding
from pygame_async._pygame.asset_formats import decoder_hint
from pygame_async._pygame.asset_specs import PathLike, Spec

logger = logging.getLogger("pygame_async")

# The name of the one call an empty batch makes, so its on_done runs in update().
_EMPTY_BATCH_CALL: Final = "pygame_async.assets.empty"


class AssetError(AsyncError):
    """Delivered to ``on_error`` for an asset that could not be loaded.

    The message names the asset and its path; ``name``, ``path`` and
    ``kind`` ("image", "sound", "font" or "data") say which asset, and
    ``__cause__`` is the original exception (``FileNotFoundError``,
    ``pygame.error``, ``json.JSONDecodeError``...).
    """

    def __init__(self, message: str, name: str, path: PathLike, kind: str) -> None:
        super().__init__(message)
        self.name = name
        self.path = path
        self.kind = kind


class Batch:
    """The assets of one ``load()`` call, as they arrive, with counts for a loading bar.

    ``assets`` maps each loaded name to its object and ``errors`` each failed
    name to its :class:`AssetError`.  Everything here changes only inside the
    pool's ``update()``, on the thread that calls it, before the matching
    callback runs: a callback sees counts that include its own asset.
    """

    def __init__(
        self,
        pool: Pool,
        total: int,
        on_asset: Callable[[str, Any], object] | None,
        on_error: Callable[[str, AssetError], object] | None,
        on_done: Callable[[Batch], object] | None,
    ) -> None:
        self.total = total
        """How many assets the batch holds."""
        self.loaded = 0
        """How many assets have loaded so far."""
        self.failed = 0
        """How many assets have failed so far."""
        self.assets: dict[str, Any] = {}
        """Each loaded asset's object by name: Surface, Sound, Font or parsed data."""
        self.errors: dict[str, AssetError] = {}
        """Each failed asset's error by name."""
        self._pool = pool
        self._on_asset = on_asset
        self._on_error = on_error
        self._on_done = on_done
        self._tasks: list[Task] = []
        self._finished = False  # on_done has been called (or is running)

    @property
    def done(self) -> bool:
        """True once every asset has loaded or failed, from the moment ``on_done`` is called.

        That is in the ``update()`` that delivers the last asset, right after
        its own callback; for an empty batch, in the next ``update()``.
        """
        return self._finished

    @property
    def fraction(self) -> float:
        """The share of assets finished, loaded or failed, from 0.0 to 1.0."""
        return 1.0 if self.total == 0 else (self.loaded + self.failed) / self.total

    def __repr__(self) -> str:
        return (
            f"<pygame_async.assets.Batch {self.loaded + self.failed}/{self.total} done: "
            f"{self.loaded} loaded, {self.failed} failed>"
        )

    def wait(self, timeout: float | None = None) -> bool:
        """Run the pool's ``update()`` until the batch is done; False if ``timeout`` passes first.

        For scripts, tests and a loading screen with nothing to animate: it
        blocks the calling thread, and runs every callback ``update()`` has
        to deliver, this batch's and others'.  Also False if the pool was
        shut down before the batch was done.
        """
        limit = _validate.seconds("Batch.wait(timeout)", "timeout", timeout)
        deadline = None if limit is None else time.monotonic() + limit
        while True:
            unfinished = [task for task in self._tasks if not task.done()]
            self._pool.update()
            if self.done:
                return True
            if not unfinished:
                # Every call had finished before that update(), which would have
                # delivered them all: the pool was shut down and dropped the rest.
                return False
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            with contextlib.suppress(TimeoutError, CancelledError):
                unfinished[0].exception(remaining)

    # -- called by the deliveries, inside update() --------------------------------------

    def _asset_loaded(self, name: str, asset: Any) -> None:
        self.assets[name] = asset
        self.loaded += 1
        try:
            if self._on_asset is not None:
                self._on_asset(name, asset)
        finally:  # a raising on_asset must not cost the game its on_done
            self._finish_if_done()

    def _asset_failed(self, error: AssetError) -> None:
        self.errors[error.name] = error
        self.failed += 1
        try:
            if self._on_error is not None:
                self._on_error(error.name, error)
            else:
                logger.warning(
                    "%s (and load() was given no on_error)",
                    error,
                    exc_info=(type(error), error, error.__traceback__),
                )
        finally:
            self._finish_if_done()

    def _finish_if_done(self) -> None:
        if self._finished or self.loaded + self.failed < self.total:
            return
        self._finished = True
        if self._on_done is not None:
            self._on_done(self)


class _Job:
    """One asset's callback pair: ``success``/``error`` as ``Pool.call`` accepts them."""

    __slots__ = ("_batch", "_convert", "_mixer_problem", "_name", "_path", "_spec")

    def __init__(
        self, batch: Batch, name: str, spec: Spec, convert: bool, mixer_problem: str | None
    ) -> None:
        self._batch = batch
        self._name = name
        self._spec = spec
        self._path = os.path.abspath(spec.path)  # workers and threads must not see a chdir
        self._convert = convert
        self._mixer_problem = mixer_problem  # for a sound: why it cannot load, if it cannot

    def start(self, pool: Pool) -> Task:
        return asset_decoding.start(pool, self, self._spec, self._path, self._mixer_problem)

    def success(self, value: Any) -> None:
        try:
            asset = asset_decoding.finish(self._spec, self._path, value, self._convert)
        except Exception as exc:
            self.error(exc)
        else:
            self._batch._asset_loaded(self._name, asset)

    def error(self, exc: BaseException) -> None:
        spec = self._spec
        kind = spec.kind
        hint = ""
        if isinstance(exc, pygame.error):
            # What pygame cannot tell beforehand: the missing decoder, if that is why.
            reason = decoder_hint(kind, spec.path)
            hint = f" ({reason})" if reason else ""
        error = AssetError(
            f"cannot load {kind} {self._name!r} from {os.fspath(spec.path)!r}: "
            f"{_serialization.describe(exc)}: {exc}{hint}",
            self._name,
            spec.path,
            kind,
        )
        error.__cause__ = exc
        self._batch._asset_failed(error)


def start_batch(
    pool: Pool,
    specs: Mapping[str, Spec],
    converting: Set[str],
    mixer_problem: str | None,
    on_asset: Callable[[str, Any], object] | None,
    on_error: Callable[[str, AssetError], object] | None,
    on_done: Callable[[Batch], object] | None,
) -> Batch:
    """Start loading every asset of ``specs`` on ``pool``; return the Batch they arrive in.

    The arguments are ``load()``'s, checked: ``converting`` names the images
    to convert at delivery, and ``mixer_problem`` says why sounds cannot load
    (None if they can, or if there are none).
    """
    batch = Batch(pool, len(specs), on_asset, on_error, on_done)
    for name, spec in specs.items():
        job = _Job(batch, name, spec, name in converting, mixer_problem)
        batch._tasks.append(job.start(pool))
    if not specs:
        # on_done still runs inside update(), like every callback of the pool.
        batch._tasks.append(
            pool._run_in_thread(lambda _: batch._finish_if_done(), _EMPTY_BATCH_CALL, _nothing)
        )
    return batch


def _nothing() -> None:
    return None
