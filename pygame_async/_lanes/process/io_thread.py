"""The process lane's I/O thread: the loop that keeps workers fed and notices their deaths.

Each turn of the loop, with the pool's lock held only to look:

* it watches every live worker's *exit* (pidfd or sentinel), every idle or
  unpolled worker's socket for replies, and the socket of every worker with
  something left in its outbox for room to write;
* it has the worker's bulk reader, a thread of its own, read each frame set
  aside for one (a big result: the GIL is released while megabytes arrive);
* it waits (without the GIL) until one of those is ready, it is roused, or
  the next deadline comes (a call's timeout, a stopping worker's grace);
* then it reaps the dead, reads and writes what is ready, kills what is
  past its deadline, and posts events / requests an ``update()``.

While the game's thread polls (``update()`` called within the last
``_POLLED_WINDOW``) or a thread blocked in ``wait()`` reads, the busy
workers' sockets are theirs: listening too would only make this thread
fight them for the GIL (see benchmarks "round_trip").  Once such a thread
has waited a ``_POLLED_WINDOW`` (a long call), this one sleeps until that
thread leaves and rouses it (``io_parked``), rather than wake each window to
find it still there, taking CPU from the workers (see benchmarks "cpu").

While a game that polls (``update()`` or ``wait()`` within the last
``_POLLING_GAME``) makes a burst of calls (``_BURST`` or more within a
``_POLLED_WINDOW``), this thread leaves those sockets be too, so that
``call()`` does not wait for the GIL while replies are filed: the game's
next ``update()`` or ``wait()`` reads them.  A game that stops polling gets
them from this thread again ``_POLLING_GAME`` after its last poll, and one
that never polls (its completions come as events, or to Futures) always
does.

Nothing a worker sends or fails to send can stop this loop: a worker it
cannot read costs that worker (killed, its call failed), and an error in
the loop's own machinery breaks the pool loudly (``PoolBrokenError`` from
every later use) rather than leaving calls hanging.
"""

from __future__ import annotations

import logging
import math
import select
import threading
import time

from pygame_async._core.errors import WorkerCrashedError
from pygame_async._lanes.process.channel import receive_bulk
from pygame_async._lanes.process.handle import EXIT_CHECK_INTERVAL, WorkerHandle
from pygame_async._lanes.process.lifecycle import Lifecycle
from pygame_async._lanes.process.reaping import Reaper, _out_of_memory
from pygame_async._lanes.process.receiving import Receiver
from pygame_async._lanes.process.state import LaneState, LaneThread
from pygame_async._lanes.process.wire import WireError

logger = logging.getLogger("pygame_async")

_POLLED_WINDOW = 0.002  # seconds after an update() during which the game counts as polling
_BURST = 8  # calls within one _POLLED_WINDOW that make a burst (one, or a few, do not)
_POLLING_GAME = 0.1  # seconds since its last poll during which the game counts as polling
_LONGEST_WAIT = 3600.0  # seconds: poll() takes no more than about 24 days
_READABLE = select.POLLIN | select.POLLPRI | select.POLLHUP | select.POLLERR


class IoThread(LaneThread):
    """The loop described in the module docstring, on a daemon thread of its own."""

    def __init__(
        self, state: LaneState, lifecycle: Lifecycle, receiver: Receiver, reaper: Reaper
    ) -> None:
        super().__init__("pygame_async-io")
        self._state = state
        self._lifecycle = lifecycle
        self._receiver = receiver
        self._reaper = reaper
        self._counted, self._counted_at = 0, -math.inf  # ledger.calls_made, and when
        self._bursting = False  # the game made a burst of calls in the last window counted

    def _run(self) -> None:
        try:
            while self._turn():
                pass
        except BaseException as exc:  # our bug: say so everywhere rather than hang
            self._abandon(exc)
        finally:
            self._state.rouser.close()
            for release in self._state.release_at_end:
                release()

    def _turn(self) -> bool:
        """One turn of the loop; False once the lane has closed and no worker is left."""
        state = self._state
        with state.ledger.lock:
            if state.closed and not state.workers:
                return False
            now = time.monotonic()
            recently_polled = now - state.polled_at < _POLLED_WINDOW
            bursting = self._in_a_burst(now)
            polled = recently_polled or state.waiting_reader or bursting
            # A reader blocked this long awaits a long call: waking every
            # _POLLED_WINDOW only to see it still there would take CPU from
            # the workers; it rouses this thread as it leaves instead.
            parked = (
                state.waiting_reader
                and not (recently_polled or bursting)
                and now - state.waiting_since >= _POLLED_WINDOW
            )
            state.io_parked = parked
            poller = select.poll()
            poller.register(state.rouser.fileno, select.POLLIN)
            exits: dict[int, WorkerHandle] = {}
            sockets: dict[int, WorkerHandle] = {}
            buffered: list[WorkerHandle] = []  # whole frames already read off their socket
            bulk: list[WorkerHandle] = []
            check_exits = False
            for worker in state.workers:
                if worker.exited:
                    continue
                exits[worker.exit_fd] = worker
                poller.register(worker.exit_fd, select.POLLIN)
                check_exits = check_exits or not worker.watched_by_pidfd
                mask = 0
                readable = worker.alive and not worker.reader.eof and worker.bulk is None
                if readable and not (polled and worker.in_flight):
                    mask |= _READABLE
                    if worker.reader.has_frame():
                        buffered.append(worker)
                if worker.alive and worker.outbox:
                    mask |= select.POLLOUT
                if mask:
                    sockets[worker.socket.fileno()] = worker
                    poller.register(worker.socket.fileno(), mask)
                if worker.bulk is not None and worker.bulk_reader is None:
                    bulk.append(worker)
            deadline = self._lifecycle.next_deadline()
        for worker in bulk:
            self._start_bulk_reader(worker)
        timeout = (
            _LONGEST_WAIT if deadline is None else min(max(0.0, deadline - now), _LONGEST_WAIT)
        )
        if polled and not parked:
            timeout = min(timeout, _POLLED_WINDOW)
        if check_exits:
            timeout = min(timeout, EXIT_CHECK_INTERVAL)
        if buffered:
            timeout = 0.0  # those replies are here: read them, whatever the sockets say
        events = poller.poll(math.ceil(timeout * 1000))  # rounded up: never wake too early
        for descriptor, event in events:
            if descriptor == state.rouser.fileno:
                with state.ledger.lock:
                    state.rouser.drain()
            elif descriptor in exits:
                self._reaper.reap(exits[descriptor])
            elif descriptor in sockets:
                self._serve_socket(sockets[descriptor], event)
                if event & _READABLE:
                    buffered = [worker for worker in buffered if worker is not sockets[descriptor]]
        for worker in buffered:  # its socket had nothing new: read what is buffered
            self._serve_socket(worker, select.POLLIN)
        if check_exits:
            for worker in list(exits.values()):
                if not worker.watched_by_pidfd and not worker.exited and worker.has_exited():
                    self._reaper.reap(worker)
        with state.ledger.lock:
            self._lifecycle.expire()
            news = bool(state.ledger.to_post or state.ledger.completed or state.ledger.progressed)
        if news:
            state.ledger.post_and_request_update()
        return True

    def _in_a_burst(self, now: float) -> bool:
        """``[lock]`` Tell whether a game that polls is making a burst of calls, left to it.

        A burst is ``_BURST`` calls or more within one ``_POLLED_WINDOW``,
        counted over whole windows, however often this thread turns.
        """
        if now - self._counted_at >= _POLLED_WINDOW:
            made = self._state.ledger.calls_made
            self._bursting = made - self._counted >= _BURST
            self._counted_at, self._counted = now, made
        return self._bursting and now - self._state.polled_at < _POLLING_GAME

    def _serve_socket(self, worker: WorkerHandle, event: int) -> None:
        """Write and read what is ready on one worker's socket; a failure costs that worker."""
        try:
            if event & select.POLLOUT:
                with self._state.ledger.lock:
                    worker.send_nowait()
            if event & _READABLE:
                self._receiver.read(worker)
        except Exception as exc:
            self._give_up_on(worker, exc)

    def _start_bulk_reader(self, worker: WorkerHandle) -> None:
        """Start the worker's bulk reader, for the first frame set aside for one.

        A reader stays for its worker's life: whoever sets a frame aside
        wakes it (``bulk_wanted``), so a stream of big results costs neither a
        thread start each nor a turn of this loop, and what it allocates
        comes from one memory arena, where freed results are found again.
        """
        with self._state.ledger.lock:
            if worker.bulk_reader is not None:
                return
            reader = worker.bulk_reader = threading.Thread(
                target=self._serve_bulk, args=(worker,), name="pygame_async-bulk", daemon=True
            )
        reader.start()

    def _serve_bulk(self, worker: WorkerHandle) -> None:
        """Run as the worker's bulk reader: read each frame set aside for it, until it is gone.

        Once the worker has exited, its reaping reads what is left.
        """
        state = self._state
        while True:
            with state.ledger.lock:
                while worker.bulk is None and not worker.exited and not state.closed:
                    state.bulk_wanted.wait()
                if worker.exited or state.closed:
                    return
            self._bulk_read(worker)

    def _bulk_read(self, worker: WorkerHandle) -> None:
        """Read the frame set aside for a bulk read, then file it (on the worker's bulk reader)."""
        state = self._state
        try:
            with worker.reading:
                frame = worker.bulk
                if frame is None or worker.reaped:
                    return  # the reaper read it meanwhile
                reason: Exception | None = None
                try:
                    reply = receive_bulk(
                        worker.bulk_socket, frame, worker_gone=lambda: worker.exited
                    )
                except (EOFError, OSError):
                    worker.reader.truncated = True  # it died while sending this: its call fails
                    reply = None
                except MemoryError:
                    reply, reason = None, _out_of_memory(worker, frame.length)
                except WireError as exc:
                    reply, reason = None, exc
                with state.ledger.lock:
                    worker.bulk = None
                    if reply is not None:
                        self._receiver.file(worker, [reply])
                    elif isinstance(reason, WireError):
                        self._receiver.refuse(worker, str(reason))
                    elif reason is not None:
                        logger.error("%s", reason)
                        self._lifecycle.kill(worker, reason)
                if reply is not None:
                    self._receiver.read_holding(worker)  # frames that arrived after it
        except Exception as exc:
            with state.ledger.lock:
                worker.bulk = None  # or its reader would try it again: the worker is killed
            self._give_up_on(worker, exc)
        finally:
            with state.ledger.lock:
                state.rouser.rouse()  # the loop watches the worker's socket again
        state.ledger.post_and_request_update()

    def _give_up_on(self, worker: WorkerHandle, error: Exception) -> None:
        """Kill a worker whose handling raised unexpectedly; fail its call, log once."""
        logger.error(
            "pygame_async internal error handling worker %s; killing it", worker.pid, exc_info=error
        )
        crash = WorkerCrashedError(
            f"the worker process (pid {worker.pid}) was killed and replaced after an internal "
            f"error of pygame_async while reading from it ({type(error).__name__}: {error}); "
            "please report this bug",
            pid=worker.pid,
            exitcode=None,
        )
        crash.__cause__ = error
        with self._state.ledger.lock:
            self._lifecycle.kill(worker, crash)

    def _abandon(self, error: BaseException) -> None:
        """Break the pool (the loop itself failed): end every worker, release everything."""
        state = self._state
        with state.ledger.lock:
            state.ledger.break_down(error)
            workers, state.workers = list(state.workers), []
            state.spawn_requests = 0
            state.closing = True
            for worker in workers:
                worker.kill()
        for worker in workers:
            worker.process.join(1.0)  # killed: at once
            worker.close()
        with state.ledger.lock:
            if not state.closed:
                state.closed = True
                state.ledger.lane_closed()
            state.spawn_wanted.notify_all()
            state.bulk_wanted.notify_all()
