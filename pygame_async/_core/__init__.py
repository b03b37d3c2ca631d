"""The pygame-free core: definitions, tasks, delivery, the call ledger and the pool.

Nothing here imports pygame, the pygame adapter (:mod:`pygame_async._pygame`)
or any lane (:mod:`pygame_async._lanes`): the adapter plugs into the seams of
:mod:`~pygame_async._core.delivery` and :mod:`~pygame_async._core.serialization`,
and lanes implement :class:`~pygame_async._core.lane_seam.Lane`.  Names here are made
public by ``pygame_async/__init__.py`` only.
"""
