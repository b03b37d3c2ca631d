"""The starter thread: every worker process of a pool is started from it.

On Linux a worker's parent-death signal (``PR_SET_PDEATHSIG``) fires when
the *thread* that started it ends, not only the process; so workers are
started from one thread that lives exactly as long as the pool's workers,
never from a game thread that may end first.  Starting a process also
blocks for a moment (the new interpreter reads its start-up data), which
must not hold up the I/O thread.
"""

from __future__ import annotations

import logging

from pygame_async._core import lane_seam
from pygame_async._lanes.process import spawning
from pygame_async._lanes.process.lifecycle import Lifecycle
from pygame_async._lanes.process.state import LaneState, LaneThread

logger = logging.getLogger("pygame_async")


class StarterThread(LaneThread):
    """Starts the worker processes the lane asks for, one at a time."""

    def __init__(self, state: LaneState, lifecycle: Lifecycle) -> None:
        super().__init__("pygame_async-starter")
        self._state = state
        self._lifecycle = lifecycle

    def _run(self) -> None:
        state = self._state
        settings = state.settings
        wanted = state.spawn_wanted
        while True:
            with state.ledger.lock:
                wanted.wait_for(
                    lambda: state.closed or (state.spawn_requests and not state.closing)
                )
                if state.closed:
                    return
                state.spawning = True
            try:
                process, sock, bulk = spawning.start_worker(
                    settings.setup,
                    settings.memory_limit,
                    lane_seam.worker_setups(),
                    low_priority=settings.low_priority,
                )
            except Exception as exc:  # e.g. out of processes or file descriptors
                with state.ledger.lock:
                    state.spawning = False
                    self._lifecycle.start_failed(exc)
                continue
            with state.ledger.lock:
                state.spawning = False
                self._lifecycle.started(process, sock, bulk)
