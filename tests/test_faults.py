"""Nothing a worker does can hang, freeze or kill the game's pool (issue 12).

Each test plays one of the failures that were observed with the earlier
pool, with real processes and real signals: big arguments and results both
ways, a crash behind finished calls, a stopped worker, bad messages, a
grandchild holding the sockets, a thread that never ends, a storm of Ctrl+C.
Every wait is bounded.
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import whitebox
from helpers import BOUND, pid_alive, run_game_script, wait_until

import pygame_async
from pygame_async import (
    AsyncError,
    PoolBrokenError,
    ResultNotSentError,
    TaskTimeoutError,
    WorkerCrashedError,
    WorkerProtocolError,
)
from pygame_async._lanes.process import child, wire

REPO = Path(__file__).resolve().parent.parent


def echo(value: object) -> object:
    return value


def record_then_exit_on(path: str, index: int, crash_at: int) -> int:
    """Append ``index`` to a file; the call numbered ``crash_at`` then kills its worker."""
    with open(path, "a") as marks:
        marks.write(f"{index}\n")
    if index == crash_at:
        os._exit(7)
    return index


def stop_myself() -> None:
    os.kill(os.getpid(), signal.SIGSTOP)


def getpid() -> int:
    return os.getpid()


def write_to_the_game(frames: bytes, then: str) -> None:
    """Play a broken worker: write ``frames`` on the main socket, then exit, stop or return."""
    assert child._channel is not None
    child._channel.sendall(frames)
    if then == "exit":
        os._exit(0)
    if then == "stop":
        os.kill(os.getpid(), signal.SIGSTOP)


def half_a_big_result() -> None:
    """Announce a 64 MiB raw buffer, send 1 MiB of it, and stop: stuck mid-send."""
    assert child._channel is not None and child._bulk is not None
    kind, body = wire.encode_result(_current_task_id(), 0.0, [(64 << 20, False)], pickle.dumps(0))
    child._channel.sendall(wire.FRAME.pack(kind, wire.RAW_FOLLOWS, len(body)) + body)
    child._bulk.sendall(b"x" * (1 << 20))
    os.kill(os.getpid(), signal.SIGSTOP)


def _current_task_id() -> int:
    """The id of the call running in this worker (the reporter knows it)."""
    from pygame_async._core import progress

    reporter = progress._current.reporter
    return int(reporter._task_id)


def fork_a_helper_then_die(pid_file: str) -> None:
    """Fork a child that keeps the worker's sockets open and lives on; then crash."""
    helper = os.fork()
    if helper == 0:
        time.sleep(60)
        os._exit(0)
    Path(pid_file).write_text(str(helper))
    os._exit(3)


def leave_a_thread_running() -> int:
    threading.Thread(target=lambda: time.sleep(3600), daemon=False).start()
    return os.getpid()


def spin_then_crash(seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pass
    os._exit(5)


def frame(kind: int, body: bytes, flags: int = 0, length: int | None = None) -> bytes:
    return wire.FRAME.pack(kind, flags, len(body) if length is None else length) + body


# -- 1. no deadlock with big arguments and results -------------------------------------


@pytest.mark.parametrize("size", [1 << 20, 4 << 20])
def test_big_arguments_and_results_both_ways_never_deadlock(size: int) -> None:
    payload = os.urandom(size)
    for _ in range(3):
        with pygame_async.Pool(1) as pool:
            pool.define("echo", echo)
            for i in range(3):
                assert pool.call(None, "echo", i).result(timeout=BOUND) == i
            tasks = [pool.call(None, "echo", payload) for _ in range(10)]
            assert pool.wait(timeout=20)
            assert all(task.result(timeout=0) == payload for task in tasks)


def test_many_calls_bigger_than_a_socket_buffer_both_ways_never_deadlock() -> None:
    with pygame_async.Pool(2) as pool:
        pool.define("echo", echo)
        tasks = [pool.call(None, "echo", bytes([i]) * 300_000) for i in range(60)]
        assert [task.result(timeout=20) for task in tasks] == [
            bytes([i]) * 300_000 for i in range(60)
        ]


# -- 2. a crash never takes finished calls with it ------------------------------------------


def test_a_crash_fails_only_the_call_that_crashed_and_it_runs_once(tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    with pygame_async.Pool(1) as pool:
        pool.define("record_then_exit_on", record_then_exit_on)
        pool.call(None, "record_then_exit_on", str(tmp_path / "warm"), 0, -1).result(BOUND)
        # Short calls: the pool queues them on the worker behind each other.
        whitebox.current_definition(pool, "record_then_exit_on").estimate = 1e-5
        tasks = [pool.call(None, "record_then_exit_on", str(marks), i, 19) for i in range(20)]
        assert pool.wait(timeout=BOUND)
        assert [task.result(timeout=0) for task in tasks[:19]] == list(range(19))
        error = tasks[19].exception(timeout=0)
        assert isinstance(error, WorkerCrashedError) and error.exitcode == 7
        runs = marks.read_text().split()
        assert runs.count("19") == 1, "a call that may have started never runs again"
        assert sorted(map(int, runs)) == list(range(20))
        assert pool.call(None, "record_then_exit_on", str(marks), 20, -1).result(BOUND) == 20


# -- 3. a stopped worker costs only its own calls --------------------------------------------


def test_a_stopped_worker_does_not_block_define_other_threads_or_other_workers() -> None:
    with pygame_async.Pool(2) as pool:
        pool.define("stop_myself", stop_myself)
        pool.define("getpid", getpid)
        stopped = pool.call(None, "stop_myself")
        victim = next(iter(set(whitebox.worker_pids(pool))))
        wait_until(lambda: _state_of(victim) == "T" or _state_of(_other(pool, victim)) == "T")
        frozen = victim if _state_of(victim) == "T" else _other(pool, victim)
        healthy = _other(pool, frozen)
        big = b"m" * (8 << 20)
        started = time.monotonic()
        pool.define("big_closure", lambda: len(big))  # sent to both workers
        threads = [
            threading.Thread(target=pool.define, args=(f"more{i}", lambda: len(big)))
            for i in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(BOUND)
        assert time.monotonic() - started < 2.0, "define() waited for a stopped worker"
        # The healthy worker keeps working meanwhile, and update() never blocks.
        tasks = [pool.call(None, "big_closure") for _ in range(20)]
        slowest = 0.0
        deadline = time.monotonic() + BOUND
        while not all(task.done() for task in tasks) and time.monotonic() < deadline:
            began = time.monotonic()
            pool.update()
            slowest = max(slowest, time.monotonic() - began)
        assert all(task.result(timeout=0) == len(big) for task in tasks)
        assert slowest < 0.25, f"update() took {slowest:.3f} s"
        assert pool.call(None, "getpid").result(BOUND) == healthy
        os.kill(frozen, signal.SIGKILL)
        assert isinstance(stopped.exception(timeout=BOUND), WorkerCrashedError)


def _state_of(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return "gone"


def _other(pool: pygame_async.Pool, pid: int) -> int:
    return next(other for other in whitebox.worker_pids(pool) if other != pid)


def test_a_call_stuck_in_a_half_sent_result_still_times_out() -> None:
    with pygame_async.Pool(2) as pool:
        pool.define("getpid", getpid)
        stuck = pool.define("half", half_a_big_result, timeout=1.5)(None)
        error = stuck.exception(timeout=BOUND)
        assert isinstance(error, TaskTimeoutError), error
        assert pool.call(None, "getpid").result(BOUND) > 0


def test_a_half_sent_message_blocks_no_update_and_no_other_worker() -> None:
    with pygame_async.Pool(2) as pool:
        pool.define("write", write_to_the_game)
        pool.define("getpid", getpid)
        half = frame(wire.FromWorker.HELLO, b"\x00" * 4, length=8)  # 4 of the 8 bytes
        stuck = pool.call(None, "write", half, "stop")
        wait_until(lambda: any(_state_of(pid) == "T" for pid in whitebox.worker_pids(pool)))
        frozen = next(pid for pid in whitebox.worker_pids(pool) if _state_of(pid) == "T")
        healthy = _other(pool, frozen)
        slowest = 0.0
        answers = []
        for _ in range(30):
            task = pool.call(None, "getpid")
            while not task.done():
                began = time.monotonic()
                pool.update()
                slowest = max(slowest, time.monotonic() - began)
            answers.append(task.result(timeout=0))
        assert set(answers) == {healthy}
        assert slowest < 0.25, f"update() took {slowest:.3f} s"
        os.kill(frozen, signal.SIGKILL)
        error = stuck.exception(timeout=BOUND)
        assert isinstance(error, WorkerCrashedError) and "middle of a message" in str(error)


def test_another_workers_crash_is_delivered_while_one_worker_is_stopped() -> None:
    with pygame_async.Pool(2) as pool:
        pool.define("stop_myself", stop_myself)
        pool.define("exit_now", lambda: os._exit(4))
        stopped = pool.call(None, "stop_myself")
        wait_until(lambda: any(_state_of(pid) == "T" for pid in whitebox.worker_pids(pool)))
        began = time.monotonic()
        error = pool.call(None, "exit_now").exception(timeout=BOUND)
        assert isinstance(error, WorkerCrashedError) and error.exitcode == 4
        assert time.monotonic() - began < 2.0
        for pid in whitebox.worker_pids(pool):
            if _state_of(pid) == "T":
                os.kill(pid, signal.SIGKILL)
        assert isinstance(stopped.exception(timeout=BOUND), WorkerCrashedError)


# -- 4. the I/O thread survives anything a worker sends ------------------------------------


def test_a_crash_as_the_timeout_fires_is_buried_once() -> None:
    with pygame_async.Pool(2) as pool:
        spin = pool.define("spin_then_crash", spin_then_crash, timeout=0.05)
        outcomes = [spin(None, 0.05).exception(timeout=BOUND) for _ in range(12)]
        assert all(isinstance(e, TaskTimeoutError | WorkerCrashedError) for e in outcomes)
        assert whitebox.io_thread_alive(pool)
        assert pool.call(None, "spin_then_crash", 0.0).exception(BOUND) is not None
        pool.define("getpid", getpid)
        assert pool.call(None, "getpid").result(BOUND) > 0
        wait_until(lambda: pool.get_worker_count() == 2 and whitebox.idle_count(pool) == 2)


BAD_MESSAGES = {
    "not a frame": (b"\x80\x04K\x07." * 8, "unknown kind"),
    "a pickled int": (pickle.dumps(7) * 2, "unknown kind"),
    "unknown kind": (frame(200, b""), "unknown kind 200"),
    "a second HELLO": (frame(wire.FromWorker.HELLO, struct.pack("!Q", 1)), "second HELLO"),
    "a malformed RESULT": (frame(wire.FromWorker.RESULT, b"\x01\x02"), "malformed RESULT"),
    "a reply to another call": (
        frame(*wire.encode_result(10**9, 0.0, [], pickle.dumps(1))),
        "which it was not running",
    ),
    "a frame too long for main": (frame(wire.FromWorker.HELLO, b"", length=1 << 30), "main socket"),
    "bad flags": (frame(wire.FromWorker.HELLO, struct.pack("!Q", 1), flags=0x80), "flags"),
}


@pytest.mark.parametrize("then", ["return", "exit"])
@pytest.mark.parametrize("name", BAD_MESSAGES)
def test_a_worker_that_sends_garbage_costs_that_worker_only(
    name: str, then: str, caplog: pytest.LogCaptureFixture
) -> None:
    data, says = BAD_MESSAGES[name]
    with pygame_async.Pool(1) as pool:
        pool.define("write", write_to_the_game)
        pool.define("getpid", getpid)
        first = pool.call(None, "getpid").result(BOUND)
        with caplog.at_level(logging.WARNING, logger="pygame_async"):
            error = pool.call(None, "write", data, then).exception(timeout=BOUND)
        assert isinstance(error, AsyncError) and isinstance(error, WorkerCrashedError)
        assert isinstance(error, WorkerProtocolError), error
        assert says in str(error)
        assert whitebox.io_thread_alive(pool)
        assert pool.call(None, "getpid").result(BOUND) != first, "replaced"
        complaints = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert len(complaints) == 1, [r.getMessage() for r in complaints]


def test_a_crafted_pickle_from_a_worker_never_runs_in_the_game(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, (f"touch {marker}",))

    crafted = pickle.dumps((wire.FromWorker.RESULT, 1, b"", 0.0, []))
    crafted += pickle.dumps(Payload())
    with pygame_async.Pool(1) as pool:
        pool.define("write", write_to_the_game)
        error = pool.call(None, "write", crafted, "return").exception(timeout=BOUND)
        assert isinstance(error, WorkerProtocolError)
    assert not marker.exists()


def test_running_out_of_memory_receiving_a_result_costs_that_call(tmp_path: Path) -> None:
    result = run_game_script(
        tmp_path,
        """
        import resource
        import pygame_async
        pool = pygame_async.Pool(1)
        pool.define("big", lambda n: b"x" * n)
        pool.define("small", lambda: 7)
        assert pool.call(None, "small").result(20) == 7
        usage = int(open("/proc/self/statm").read().split()[0]) * resource.getpagesize()
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (usage + (96 << 20), hard))
        error = pool.call(None, "big", 256 << 20).exception(timeout=20)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        print(type(error).__name__, error)
        print(pool.call(None, "small").result(20))
        pool.shutdown()
        """,
    )
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.splitlines()
    assert first.startswith(ResultNotSentError.__name__) and "out of memory" in first
    assert second == "7"


def test_a_failure_of_the_pools_own_machinery_is_said_not_hidden(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pygame_async._lanes.process import io_thread

    pool = pygame_async.Pool(1)
    pids = whitebox.worker_pids(pool)
    pool.define("echo", echo)
    task = pool.call(None, "echo", 1)
    task.result(BOUND)
    turn = io_thread.IoThread._turn

    def broken(self: object) -> bool:
        monkeypatch.setattr(io_thread.IoThread, "_turn", turn)
        raise RuntimeError("the I/O loop broke")

    monkeypatch.setattr(io_thread.IoThread, "_turn", broken)
    whitebox.rouse_io_thread(pool)  # into its broken turn
    wait_until(lambda: not whitebox.io_thread_alive(pool))
    for use in (
        lambda: pool.call(None, "echo", 2),
        pool.update,
        lambda: pool.wait(1),
        lambda: pool.define("x", echo),
    ):
        with pytest.raises(PoolBrokenError, match="the I/O loop broke"):
            use()
    pool.shutdown()
    assert not any(pid_alive(pid) for pid in pids)


# -- 5/6/7. process-level faults ---------------------------------------------------------------


def test_a_grandchild_holding_the_sockets_does_not_hide_a_crash(tmp_path: Path) -> None:
    pid_file = tmp_path / "helper.pid"
    with pygame_async.Pool(1) as pool:
        pool.define("fork", fork_a_helper_then_die)
        began = time.monotonic()
        error = pool.call(None, "fork", str(pid_file)).exception(timeout=BOUND)
        assert isinstance(error, WorkerCrashedError) and error.exitcode == 3
        assert time.monotonic() - began < 2.0
        helper = int(pid_file.read_text())
        assert pid_alive(helper), "the grandchild lives on, sockets open"
    os.kill(helper, signal.SIGKILL)


@pytest.mark.parametrize("how", ["stop_workers", "max_calls", "shutdown"])
def test_a_thread_left_running_never_keeps_a_worker_alive(how: str) -> None:
    options = {"max_calls_per_worker": 1} if how == "max_calls" else {}
    pool = pygame_async.Pool(1, **options)  # type: ignore[arg-type]
    try:
        pool.define("leave", leave_a_thread_running)
        pid = pool.call(None, "leave").result(BOUND)
        if how == "stop_workers":
            pool.stop_workers(1)
            wait_until(lambda: not pid_alive(pid))
        elif how == "max_calls":
            wait_until(lambda: not pid_alive(pid))
            assert pool.call(None, "leave").result(BOUND) != pid, "replaced"
    finally:
        pool.shutdown()
    assert not pid_alive(pid)


# -- 8. Ctrl+C ---------------------------------------------------------------------------------


CTRL_C_GAME = """
import signal, sys
import pygame_async, whitebox

pool = pygame_async.Pool(2)
pool.define("inc", lambda x: x + 1)
delivered = []
interrupts = 0
made = 0
told = False
done = False


def keep_trying(step):
    # Ctrl+C lands anywhere in the game's own code, and CPython looks for it
    # at a loop's jump back, which no try of that loop's own frame covers: so
    # every loop of the game runs in a function of its own, called inside a
    # try, and this retrying loop is itself retried from outside.
    global interrupts
    while True:
        try:
            return step()
        except KeyboardInterrupt:
            interrupts += 1


def make_calls():
    global made, told
    while made < 2000:
        if not told:
            told = True
            print("ready", flush=True)  # the storm starts once this is read
        pool.call(delivered.append, "inc", made)
        made += 1
        if made % 50 == 0:
            pool.wait(10)


def wait_for_all():
    global done
    done = pool.wait(10)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # done: the rest of the storm is moot


keep_trying(lambda: keep_trying(make_calls))
keep_trying(lambda: keep_trying(wait_for_all))
print(done, len(delivered), whitebox.calls_made(pool), pool.get_pending_count(), interrupts,
      flush=True)
pool.shutdown()
"""


def test_a_storm_of_ctrl_c_never_loses_a_call(tmp_path: Path) -> None:
    script = tmp_path / "game.py"
    script.write_text(CTRL_C_GAME)
    game = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_game_env(),
    )
    try:
        assert game.stdout is not None
        assert game.stdout.readline().strip() == "ready"
        sent = 0
        while game.poll() is None and sent < 300:
            game.send_signal(signal.SIGINT)
            sent += 1
            time.sleep(0.01)  # pacing the storm, not waiting for a condition
        out, err = game.communicate(timeout=60)
    finally:
        game.kill()
    assert game.returncode == 0, err
    done, delivered, made, pending, interrupts = out.split()
    assert done == "True" and pending == "0"
    assert delivered == made, "every call made was delivered"
    assert int(interrupts) > 0


# -- 9/10. descriptors, names, start failures ----------------------------------------------------


_DESCRIPTORS_GAME = """
import gc, os
import pygame_async

def descriptors():
    return len(os.listdir("/proc/self/fd"))

pygame_async.load(1).shutdown()  # the first pool imports what later ones reuse
pygame_async.shutdown()
gc.collect()
gc.disable()
before = descriptors()
for _ in range(30):
    pygame_async.load(1)
    pygame_async.shutdown()
print(before, descriptors())
"""


@pytest.mark.slow  # 30 pools made and shut down in a game of its own
def test_load_and_shutdown_leave_no_descriptor_open() -> None:
    # In a game process of its own: the test session's shared dask cluster
    # opens and closes descriptors of its own at any moment.
    game = subprocess.run(
        [sys.executable, "-c", _DESCRIPTORS_GAME],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert game.returncode == 0, game.stderr
    before, after = game.stdout.split()
    assert after == before, "30 pools made and shut down left descriptors open"


KILLED_GAME = "import pygame_async, sys; pygame_async.load(2); print('up', flush=True); input()"


def test_a_killed_game_leaves_no_named_semaphore(tmp_path: Path) -> None:
    before = set(os.listdir("/dev/shm"))
    game = subprocess.Popen(
        [sys.executable, "-c", KILLED_GAME],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=_game_env(),
        start_new_session=True,
    )
    try:
        assert game.stdout is not None and game.stdout.readline().strip() == "up"
    finally:
        os.killpg(game.pid, signal.SIGKILL)
        game.wait(BOUND)
    wait_until(lambda: not (set(os.listdir("/dev/shm")) - before))


def test_a_start_failure_says_why_in_the_exception(tmp_path: Path) -> None:
    result = run_game_script(
        tmp_path,
        """
        import resource
        import pygame_async
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
        try:
            pygame_async.Pool(16)
        except pygame_async.AsyncError as error:
            print(type(error).__name__, error)
        """,
    )
    assert result.returncode == 0, result.stderr
    assert "WorkerStartError" in result.stdout
    assert "Too many open files" in result.stdout


def _game_env() -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests")]),
        "SDL_VIDEODRIVER": "dummy",
        "SDL_AUDIODRIVER": "dummy",
    }
