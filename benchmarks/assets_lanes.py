"""Where should pygame_async.assets decode each kind?  Measures the two lanes.

    SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy python assets_lanes.py [--runs 3]

1. GIL: does the decoder release it?  A pure-Python counter runs on the main
   thread while another thread decodes in a loop; its rate against the counter
   alone, and its longest stall, say how much the decoder holds the GIL.
2. Images: worker process (pool.call, Surfaces pickled back) against the pool's
   thread lane (pool._run_in_thread), in a simulated 60 fps game loop (2 ms of
   Python per frame then sleep, or 16 ms of Python and no sleep: "busy").
   Reports total load time, main-thread time inside update() and frame times.
3. JSON: json.loads on a thread (main thread stalls for the parse) against a
   worker (main thread pays the unpickling of the parsed result).
Test files are generated in a temporary directory.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import wave
from collections.abc import Callable

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import pygame

import pygame_async
from pygame_async._core import serialization as _serialization


def make_files(root: str) -> None:
    rng = random.Random(1)
    for i in range(200):
        s = pygame.Surface((64, 64), pygame.SRCALPHA)
        s.fill((rng.randrange(256), rng.randrange(256), rng.randrange(256), 255))
        for _ in range(20):
            colour = [rng.randrange(256) for _ in range(4)]
            pygame.draw.circle(
                s, colour, (rng.randrange(64), rng.randrange(64)), rng.randrange(2, 12)
            )
        pygame.image.save(s, f"{root}/small_{i:03}.png")
    for i in range(4):  # half noise, half flat: decodes slowly, like a detailed texture
        s = pygame.image.frombuffer(bytearray(os.urandom(2048 * 2048 * 4)), (2048, 2048), "RGBA")
        s = s.copy()
        pygame.draw.rect(s, (10, 200, 30, 255), (0, 0, 2048, 1024))
        pygame.image.save(s, f"{root}/big_{i}.png")
    with wave.open(f"{root}/long.wav", "wb") as w:  # 60 s at 22 kHz: the mixer resamples it
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(22050)
        w.writeframes(
            b"".join(
                struct.pack("<hh", int(8000 * math.sin(i / 20)), int(8000 * math.sin(i / 30)))
                for i in range(22050 * 60)
            )
        )
    doc = {  # a Tiled-like map: 4 layers of 512x512 tile ids and 2000 objects
        "width": 512,
        "height": 512,
        "layers": [{"data": [rng.randrange(200) for _ in range(512 * 512)]} for _ in range(4)],
        "objects": [{"id": i, "x": rng.random() * 1e4, "type": "enemy"} for i in range(2000)],
    }
    with open(f"{root}/map.json", "w") as f:
        json.dump(doc, f)


def counter(seconds: float) -> tuple[float, float]:
    """Count in pure Python; return (counts per second, longest stall in seconds)."""
    n, gap = 0, 0.0
    start = last = time.perf_counter()
    while True:
        for _ in range(200):
            n += 1
        now = time.perf_counter()
        gap, last = max(gap, now - last), now
        if now - start >= seconds:
            return n / (now - start), gap


def repeat(op: Callable[[], object], stop: threading.Event) -> None:
    while not stop.is_set():
        op()


def gil(root: str) -> None:
    pygame.mixer.init()
    with open(f"{root}/map.json", "rb") as file:
        raw = file.read()
    ops = {
        "image.load 2048x2048 PNG": lambda: pygame.image.load(f"{root}/big_0.png"),
        "image.load 64x64 PNG": lambda: pygame.image.load(f"{root}/small_000.png"),
        "mixer.Sound 60 s WAV": lambda: pygame.mixer.Sound(f"{root}/long.wav"),
        "json.loads 4.9 MB": lambda: json.loads(raw),
    }
    for name, op in ops.items():
        t = time.perf_counter()
        op()
        once = time.perf_counter() - t
        alone, _ = counter(1.0)
        stop = threading.Event()
        thread = threading.Thread(target=repeat, args=(op, stop))
        thread.start()
        rate, stall = counter(2.0)
        stop.set()
        thread.join()
        print(
            f"  {name:26} {once * 1e3:6.1f} ms each | counter {100 * rate / alone:3.0f}% "
            f"of its rate alone, longest stall {stall * 1e3:5.1f} ms"
        )


def decode(path: str) -> pygame.Surface:
    return pygame.image.load(path)


def lane_run(root: str, lane: str, which: str, busy: bool) -> None:
    files = (
        [f"{root}/small_{i:03}.png" for i in range(200)]
        if which == "small"
        else [f"{root}/big_{i}.png" for i in range(4)]
    )
    pygame.init()
    pygame.display.set_mode((64, 64))
    with pygame_async.Pool(2) as pool:
        pool.define("decode", decode)
        for _ in range(2):  # workers import pygame on their first call: a one-off cost
            pool.call(None, "decode", files[0])
        pool.wait()
        got: list[pygame.Surface] = []
        frames, updates = [], []
        start = time.perf_counter()
        for path in files:
            if lane == "thread":
                pool._run_in_thread(got.append, "decode", decode, path)
            else:
                pool.call(got.append, "decode", path)
        while len(got) < len(files):
            frame = time.perf_counter()
            work_end = frame + (0.016 if busy else 0.002)
            while time.perf_counter() < work_end:
                sum(range(100))
            before = time.perf_counter()
            pool.update()
            updates.append(time.perf_counter() - before)
            left = 1 / 60 - (time.perf_counter() - frame)
            if left > 0:
                time.sleep(left)
            frames.append(time.perf_counter() - frame)
        total = time.perf_counter() - start
    print(
        f"  {lane:7} {len(files):3} x {which:5} {'busy' if busy else 'sleep':5} total "
        f"{total * 1e3:5.0f} ms | update() sum {sum(updates) * 1e3:6.1f} ms, "
        f"max {max(updates) * 1e3:6.1f} ms | frame p50 {statistics.median(frames) * 1e3:5.1f} "
        f"ms, max {max(frames) * 1e3:6.1f} ms"
    )


def data(root: str) -> None:
    with open(f"{root}/map.json", "rb") as file:
        raw = file.read()

    def best(f: Callable[[], object], n: int = 5) -> float:
        times = []
        for _ in range(n):
            t = time.perf_counter()
            f()
            times.append(time.perf_counter() - t)
        return min(times) * 1e3

    blob = _serialization.dumps(json.loads(raw))
    print(
        f"  map.json {len(raw) / 1e6:.1f} MB: json.loads {best(lambda: json.loads(raw)):.0f} ms "
        f"(the main thread's stall on a thread lane) | worker lane: unpickling the result "
        f"costs the main thread {best(lambda: _serialization.loads(blob)):.0f} ms"
    )
    pygame.font.init()
    ttf = os.path.join(os.path.dirname(pygame.__file__), "freesansbold.ttf")
    print(f"  pygame.font.Font(path, 24): {best(lambda: pygame.font.Font(ttf, 24), 20):.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--lane", nargs=4, help=argparse.SUPPRESS)  # internal: one lane run
    args = parser.parse_args()
    if args.lane:
        root, lane, which, busy = args.lane
        lane_run(root, lane, which, busy == "busy")
        return
    print(f"pygame {pygame.version.ver} (SDL {'.'.join(map(str, pygame.get_sdl_version()))})")
    with tempfile.TemporaryDirectory() as root:
        make_files(root)
        print("GIL, a thread decoding in a loop:")
        gil(root)
        print(f"images, 60 fps loop, {args.runs} runs each:")
        for busy in ("sleep", "busy"):
            for which in ("small", "big"):
                for lane in ("process", "thread"):
                    for _ in range(args.runs):  # a fresh process each: no warm state
                        subprocess.run(
                            [sys.executable, __file__, "--lane", root, lane, which, busy],
                            check=True,
                        )
        print("data and fonts:")
        data(root)


if __name__ == "__main__":
    main()
