"""What is true of the dask lane only: definitions once per dask worker, crashes, timeouts,
retries, batching, Surfaces, the cluster it is given or starts, and what it leaves behind.

The core suite runs on the dask lane too (``lanes.LANES``); these tests use the
cluster the session shares (``dask_cluster``), sized for each, except where the
lane starts its own.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dask_cluster
import lanes
import pygame
import pytest
import whitebox
from helpers import BOUND, HOLD_LIMIT, block_until, identity, pid_alive, wait_until

import pygame_async
from pygame_async import DaskLane

# -- worker functions (this module is importable by the dask workers) ------------------

# Counts, inside each dask worker process, how often a Counted was unpickled there.
unpickled_here = 0


class Counted:
    """A big object whose unpickling is counted in the process that unpickles it."""

    def __init__(self, size: int) -> None:
        self.data = bytes(size)

    def __reduce__(self) -> tuple[object, ...]:
        return (_revive, (self.data,))


def _revive(data: bytes) -> Counted:
    global unpickled_here
    unpickled_here += 1
    counted = Counted.__new__(Counted)
    counted.data = data
    return counted


def make_measure(counted: Counted):
    def measure(gate: str | None) -> tuple[int, int, int]:
        import test_dask_lane

        if gate is not None:  # held until the gate exists: two held calls need two workers
            yield from block_until(gate)
        return os.getpid(), test_dask_lane.unpickled_here, len(counted.data)

    return measure


def counted_here() -> int:
    import test_dask_lane

    return test_dask_lane.unpickled_here


def report_pid_then_block(folder: str) -> str:
    """Leave a file named after this run holding the worker's pid, then block (to be killed)."""
    mark = Path(folder) / f"run-{os.getpid()}-{time.monotonic_ns()}"
    mark.write_text(str(os.getpid()))
    deadline = time.monotonic() + HOLD_LIMIT
    while time.monotonic() < deadline:
        time.sleep(0.005)
    return "never killed"


def die_the_first_time(marker: str) -> str:
    if not os.path.exists(marker):
        Path(marker).touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return "ran again"


def die_at(value: int, doomed: int, marker: str) -> int:
    """Return ``value`` at once, but kill the worker at ``doomed`` (the first time only)."""
    if value == doomed and not os.path.exists(marker):
        Path(marker).touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return value


def hold_for(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def flip(surface: pygame.Surface) -> pygame.Surface:
    import pygame

    return pygame.transform.flip(surface, True, False)


# -- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def two() -> Iterator[pygame_async.Pool]:
    """A pool on the shared cluster, sized to two dask workers."""
    with lanes.make_pool("dask", 2) as pool:
        yield pool
    lanes.check_left_running(pool)


def registered(client: object, token: str) -> set[int]:
    """The definition ids a lane has registered with the scheduler, as worker plugins."""
    names = client.run_on_scheduler(  # type: ignore[attr-defined]
        lambda dask_scheduler: list(dask_scheduler.worker_plugins)
    )
    return {int(name.rsplit("-", 1)[1]) for name in names if f"-{token}-" in name}


def written_pids(folder: Path) -> list[int]:
    return [int(mark.read_text()) for mark in folder.glob("run-*") if mark.read_text()]


# -- the package and the spec -----------------------------------------------------------------


def test_importing_pygame_async_does_not_import_distributed() -> None:
    code = (
        "import sys, pygame_async; lane = pygame_async.DaskLane('tcp://nowhere:1'); "
        "bad = [m for m in ('distributed', 'dask', 'tornado') if m in sys.modules]; "
        "assert not bad, bad; print(repr(lane))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "DaskLane('tcp://nowhere:1')"


def test_worker_process_options_are_refused_on_the_dask_lane() -> None:
    cluster = dask_cluster.sized(2)
    with pytest.raises(ValueError, match=r"Pool\(initializer\): only worker processes.*dask"):
        pygame_async.Pool(1, lane=DaskLane(cluster), initializer=print)
    with pytest.raises(ValueError, match=r"Pool\(max_calls_per_worker\)"):
        pygame_async.Pool(1, lane=DaskLane(cluster), max_calls_per_worker=3)


@pytest.mark.parametrize("lane", ["process", "thread", "inline"])
def test_retries_are_refused_by_lanes_that_never_run_a_call_twice(lane: str) -> None:
    with lanes.make_pool(lane, 1) as pool:
        f = pool.define("identity", identity)
        with pytest.raises(ValueError, match=rf"retries\): the {lane} lane never runs a call"):
            f.options(retries=1)(None, 1)
        with pytest.raises(ValueError, match="retries must be 0 or more"):
            f.options(retries=-1)
        assert f.options(retries=0)(None, 2).result(timeout=BOUND) == 2


# -- definitions cross once per dask worker ----------------------------------------------------


def test_a_definition_crosses_to_each_dask_worker_once_also_to_one_that_joins_later(
    tmp_path: Path,
) -> None:
    with lanes.make_pool("dask", 1) as pool:
        client = whitebox.dask_client(pool)
        pool.define("measure", make_measure(Counted(4 << 20)))
        replies = [pool.call(None, "measure", None).result(timeout=BOUND) for _ in range(30)]
        assert {(count, size) for _, count, size in replies} == {(1, 4 << 20)}
        (first,) = {pid for pid, _, _ in replies}

        pool.add_worker()  # joins after define(): the scheduler hands it the definition
        wait_until(lambda: len(whitebox.dask_worker_pids(pool)) == 2)
        gate = tmp_path / "gate"
        held = [pool.call(None, "measure", str(gate)) for _ in range(2)]
        wait_until(lambda: all(task.state.value == "assigned" for task in held))
        gate.touch()  # both were running at once: one on each worker
        replies = [task.result(timeout=BOUND) for task in held]
        replies += [pool.call(None, "measure", None).result(timeout=BOUND) for _ in range(20)]
        pids = {pid for pid, _, _ in replies}
        assert len(pids) == 2 and first in pids
        assert {count for _, count, _ in replies} == {1}, "unpickled once per worker, not per call"
        assert set(client.run(counted_here).values()) == {1}


# -- crashes, retries, timeouts -------------------------------------------------------------------


def test_a_dask_worker_killed_mid_call_fails_that_call_only_and_it_never_runs_again(
    two: pygame_async.Pool, tmp_path: Path
) -> None:
    two.define("report_pid_then_block", report_pid_then_block)
    two.define("identity", identity)
    doomed = two.call(None, "report_pid_then_block", str(tmp_path))
    others = [two.call(None, "identity", i) for i in range(30)]
    wait_until(lambda: written_pids(tmp_path))
    (pid,) = written_pids(tmp_path)
    os.kill(pid, signal.SIGKILL)
    error = doomed.exception(timeout=BOUND)
    assert isinstance(error, pygame_async.WorkerCrashedError)
    assert error.address is not None and error.address.startswith("tcp://")
    assert error.address in str(error) and "'report_pid_then_block'" in str(error)
    assert error.pid == pid and f"pid {pid}" in str(error)
    assert [task.result(timeout=BOUND) for task in others] == list(range(30))
    later = [two.call(None, "identity", i) for i in range(30)]
    assert [task.result(timeout=BOUND) for task in later] == list(range(30))
    assert written_pids(tmp_path) == [pid], "dask's re-run of the call is refused"


def test_a_crash_in_a_batch_of_short_calls_fails_that_batch_and_nothing_runs_again(
    two: pygame_async.Pool, tmp_path: Path
) -> None:
    marker = str(tmp_path / "died")
    die = two.define("die_at", die_at)
    assert die(None, -1, 0, marker).result(timeout=BOUND) == -1  # measured: short, batched
    state = whitebox.dask_state(two)
    tasks = [die(None, value, 1500, marker) for value in range(3000)]
    assert two.wait(timeout=3 * BOUND)
    failed = [task for task in tasks if task.exception() is not None]
    assert tasks[1500] in failed and os.path.exists(marker)
    assert 1 < len(failed) < len(tasks), "the batch it was in, not the others"
    for task in failed:
        error = task.exception()
        assert isinstance(error, pygame_async.WorkerCrashedError)
        assert "batch of" in str(error) and error.address is not None
    assert all(task.result() == value for value, task in enumerate(tasks) if task not in failed)
    assert state.next_number < 40, "they travelled in batches"


def hold_the_lane(monkeypatch: pytest.MonkeyPatch, method: str) -> tuple[Any, Any]:
    """Hold the dask lane at a step of its own (``_gather`` or ``_on_done``'s callback).

    Returns ``(reached, go)``: ``reached`` is set once a finished batch got
    there, and it goes on when the test sets ``go``: a window in which the
    test does to the cluster what a fault would.
    """
    from pygame_async._lanes.cluster.collector import Collector

    reached, go = threading.Event(), threading.Event()
    original = getattr(Collector, method)

    def hold() -> None:
        reached.set()
        assert go.wait(HOLD_LIMIT)

    if method == "_gather":

        def held_gather(self: Collector, batches: list[object]) -> None:
            hold()
            original(self, batches)

        monkeypatch.setattr(Collector, method, held_gather)
    else:

        def held_on_done(self: Collector, batch: object) -> Any:
            done = original(self, batch)

            def held_done(future: object) -> None:  # on dask's callback thread
                hold()
                done(future)

            return held_done

        monkeypatch.setattr(Collector, method, held_on_done)
    return reached, go


def test_a_result_whose_worker_left_before_it_was_fetched_fails_its_call_and_nothing_hangs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reached, go = hold_the_lane(monkeypatch, "_gather")
    cluster = dask_cluster.sized(1)
    with lanes.make_pool("dask", 1) as pool:
        pool.define("identity", identity)
        task = pool.call(None, "identity", 5)
        assert reached.wait(BOUND), "it ran; its result waits on its worker"
        cluster.scale(0)  # the worker goes, and its result with it: no worker is left
        dask_cluster.settle(0)
        go.set()
        error = task.exception(timeout=3 * BOUND)
        assert isinstance(error, pygame_async.WorkerCrashedError)
        assert "'identity'" in str(error) and "before the result could be fetched" in str(error)
        dask_cluster.sized(1)
        assert pool.call(None, "identity", 6).result(timeout=BOUND) == 6, "the pool goes on"
    lanes.check_left_running(pool)


def test_a_worker_asked_to_stop_keeps_its_result_until_the_lane_has_fetched_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    finished, go = hold_the_lane(monkeypatch, "_on_done")
    cluster = dask_cluster.sized(1)
    with lanes.make_pool("dask", 1) as pool:
        pool.define("identity", identity)
        task = pool.call(None, "identity", 5)
        assert finished.wait(BOUND), "it ran; the lane does not know yet"
        pool.stop_workers(1)
        state = whitebox.dask_state(pool)
        wait_until(lambda: state.retiring)  # it tried, and left the worker be
        assert len(cluster.scheduler_info["workers"]) == 1
        go.set()
        assert task.result(timeout=BOUND) == 5, "its outcome reached the game"
        wait_until(lambda: not cluster.scheduler_info["workers"])  # then it stopped
    lanes.check_left_running(pool)


def test_retries_run_a_call_again_when_its_worker_dies(
    two: pygame_async.Pool, tmp_path: Path
) -> None:
    die = two.define("die_the_first_time", die_the_first_time)
    assert die.options(retries=1)(None, str(tmp_path / "once")).result(timeout=BOUND) == (
        "ran again"
    )
    error = die(None, str(tmp_path / "twice")).exception(timeout=BOUND)
    assert isinstance(error, pygame_async.WorkerCrashedError), "retries=0: it does not run again"


def test_a_call_past_its_timeout_fails_and_its_late_outcome_is_thrown_away(
    two: pygame_async.Pool,
) -> None:
    hold = two.define("hold_for", hold_for)
    two.define("identity", identity)
    delivered: list[object] = []
    late = hold.options(timeout=0.2)({"success": delivered.append, "error": delivered.append}, 1.0)
    others = [two.call(None, "identity", i) for i in range(10)]
    error = late.exception(timeout=BOUND)
    assert isinstance(error, pygame_async.TaskTimeoutError) and isinstance(error, TimeoutError)
    assert error.timeout == 0.2 and error.pid is None and "'hold_for'" in str(error)
    assert [task.result(timeout=BOUND) for task in others] == list(range(10))
    assert two.update() == 11 and delivered == [error]
    state = whitebox.dask_state(two)
    wait_until(lambda: not state.in_flight)  # the call really ended on its worker, late
    assert two.update() == 0 and delivered == [error], "the late outcome is thrown away"
    assert hold(None, 0.0).result(timeout=BOUND) == 0.0


# -- batching, Surfaces, events ---------------------------------------------------------------


def test_a_frames_tiny_calls_travel_in_few_dask_tasks(two: pygame_async.Pool) -> None:
    square = two.define("square", lambda value: value * value)
    assert square(None, 3).result(timeout=BOUND) == 9  # measured now: short
    state = whitebox.dask_state(two)
    before = state.next_number
    tasks = [square(None, value) for value in range(5000)]
    assert two.wait(timeout=3 * BOUND)
    assert [task.result() for task in tasks] == [value * value for value in range(5000)]
    assert state.next_number - before <= 12, "5,000 calls in a handful of dask tasks"


def test_surfaces_cross_as_arguments_and_results(two: pygame_async.Pool) -> None:
    two.define("flip", flip)
    alpha = pygame.Surface((64, 32), pygame.SRCALPHA)
    alpha.fill((10, 20, 30, 40))
    alpha.fill((200, 100, 50, 255), pygame.Rect(0, 0, 8, 32))
    keyed = pygame.Surface((16, 8))
    keyed.fill((1, 2, 3))
    keyed.set_colorkey((1, 2, 3))
    keyed.set_at((0, 0), (9, 9, 9))
    for surface in (alpha, keyed):
        flipped = two.call(None, "flip", surface).result(timeout=BOUND)
        expected = pygame.transform.flip(surface, True, False)
        assert flipped.get_size() == surface.get_size()
        assert flipped.get_colorkey() == expected.get_colorkey()
        assert pygame.image.tobytes(flipped, "RGBA") == pygame.image.tobytes(expected, "RGBA")


def test_an_event_type_callback_is_posted_by_the_lane(two: pygame_async.Pool) -> None:
    pygame.init()
    try:
        pygame.display.set_mode((16, 16))
        pygame.event.get()
        done = pygame.event.custom_type()
        two.define("identity", identity)
        task = two.call(done, "identity", [1, 2])
        deadline = pygame.time.get_ticks() + int(BOUND * 1000)
        event = None
        while event is None and pygame.time.get_ticks() < deadline:
            waited = pygame.event.wait(100)  # as an event-driven game does: no update()
            if waited.type == done:
                event = waited
        assert event is not None, "posted without update()"
        assert (event.ok, event.result, event.task) == (True, [1, 2], task)
        assert two.get_pending_count() == 0
    finally:
        pygame.quit()


# -- the cluster: given, by address, by client, or started by the lane ----------------------------


def test_a_cluster_given_by_address_manages_its_own_workers(tmp_path: Path) -> None:
    cluster = dask_cluster.sized(2)
    with pygame_async.Pool(lane=DaskLane(cluster.scheduler_address)) as pool:
        assert pool.get_worker_count() == 2
        for scale in (
            pool.add_worker,
            lambda: pool.stop_workers(1),
            lambda: pool.ensure.exactly(3),
        ):
            with pytest.raises(pygame_async.AsyncError, match="manages its own workers"):
                scale()
        assert pool.get_worker_count() == 2
        pool.define("identity", identity)
        assert pool.call(None, "identity", 5).result(timeout=BOUND) == 5
    assert cluster.status.name == "running"


def test_a_client_given_stays_open_and_its_cluster_scales(tmp_path: Path) -> None:
    from distributed import Client

    cluster = dask_cluster.sized(1)
    with Client(cluster, set_as_default=False) as client:
        with pygame_async.Pool(lane=DaskLane(client)) as pool:
            pool.define("identity", identity)
            assert pool.call(None, "identity", 1).result(timeout=BOUND) == 1
            pool.add_worker()
            assert pool.get_worker_count() == 2
            wait_until(lambda: len(cluster.scheduler_info["workers"]) == 2)
        assert client.status == "running"
        assert client.submit(identity, 3).result() == 3


def test_a_pool_leaves_nothing_of_its_own_on_a_cluster_it_was_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pygame_async._lanes.cluster import state

    monkeypatch.setattr(state, "EPOCH_SIZE", 4)  # claims in a few epochs' worth, quickly
    cluster = dask_cluster.sized(2)
    with lanes.make_pool("dask", 2) as pool:
        token = whitebox.dask_state(pool).token
        pool.define("identity", identity)
        for round_ in range(3):
            pool.define("version", lambda round_=round_: round_)
            assert pool.call(None, "version").result(timeout=BOUND) == round_
        for value in range(12):  # one batch each: twelve batches, three epochs and more
            assert pool.call(None, "identity", value).result(timeout=BOUND) == value
        client = whitebox.dask_client(pool)
        current = {whitebox.current_definition(pool, name).id for name in ("identity", "version")}
        wait_until(lambda: registered(client, token) == current)  # old versions: forgotten
        claims = client.get_metadata(["pygame_async", token])
        over = [epoch for epoch, batches in claims.items() if batches is None]
        assert len(over) >= 2 and claims[max(claims)] is not None, "epochs over are cleared"
    from distributed import Client

    with Client(cluster, set_as_default=False) as look:
        plugins = look.run_on_scheduler(
            lambda dask_scheduler: [name for name in dask_scheduler.worker_plugins]
        )
        claims = look.get_metadata(["pygame_async", token], default=None)
    assert [name for name in plugins if token in name] == [], "its definitions are gone"
    assert claims is None, "its claims are gone"
    assert client.status == "closed" and cluster.status.name == "running"


def test_a_cluster_the_lane_starts_is_closed_with_the_pool() -> None:
    before = set(threading.enumerate())
    with pygame_async.Pool(2, lane=DaskLane()) as pool:
        assert pool.get_worker_count() == 2
        pids = whitebox.dask_worker_pids(pool)
        assert len(pids) == 2 and all(pid_alive(pid) for pid in pids)
        cluster = whitebox.dask_state(pool).connection.cluster
        pool.define("identity", identity)
        assert pool.call(None, "identity", 4).result(timeout=BOUND) == 4
        pool.add_worker()
        assert pool.get_worker_count() == 3
    assert pool.get_worker_count() == 0
    assert cluster.status.name == "closed"
    wait_until(lambda: not any(pid_alive(pid) for pid in pids))
    assert lanes.lane_threads_left() == []
    # What may stay: dask's process-wide executors, started once and kept by dask.
    # Its scheduler's "Profile" thread notices the close at its next tick: wait for it.
    kept = ("Dask-Offload", "Dask-Callback-Thread")

    def others_left() -> set[str]:
        new = set(threading.enumerate()) - before
        return {thread.name for thread in new if thread.is_alive()} - {
            name for name in (thread.name for thread in new) if name.startswith(kept)
        }

    wait_until(lambda: not others_left())


@pytest.mark.slow  # a game of its own, with a LocalCluster of its own
def test_a_game_that_exits_mid_call_without_shutdown_leaves_nothing_and_says_nothing(
    tmp_path: Path,
) -> None:
    script = tmp_path / "game.py"
    script.write_text(
        "import os, sys, time\n"
        "import pygame_async\n"
        "if __name__ == '__main__':\n"
        "    pool = pygame_async.Pool(2, lane=pygame_async.DaskLane())\n"
        "    pids = pool._lane._state.connection.client.run(os.getpid)\n"
        "    print(*pids.values(), flush=True)\n"
        "    pool.define('sleep', time.sleep)(None, 30)\n"
        "    pool.call(None, 'sleep', 30)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    pids = [int(pid) for pid in result.stdout.split()]
    assert len(pids) == 2
    wait_until(lambda: not any(pid_alive(pid) for pid in pids))
    complaints = [
        line for line in result.stderr.splitlines() if "Traceback" in line or " ERROR " in line
    ]
    assert complaints == [], result.stderr
