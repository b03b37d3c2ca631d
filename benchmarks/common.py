"""What every part of the suite shares: the run's sizes, metrics, checks and statistics."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

Metrics = dict[str, float]
MIB = 2**20


class BenchmarkError(Exception):
    """A pool (or the demo) returned a wrong result: the run fails."""


@dataclass(frozen=True)
class Config:
    """Sizes of one run; ``cpu_n`` is calibrated so one ``cpu_work`` call takes ~0.1 s."""

    quick: bool
    tiny_calls: int
    round_trips: int
    update_calls: int  # update() calls with nothing ready, timed together
    budget_completions: int  # completions waiting when update(budget=...) is timed
    budget_seconds: float
    budget_reps: int
    cpu_calls: int
    cpu_repeats: int  # batches of cpu_calls timed; the fastest counts
    cpu_n: int
    cpu_serial_seconds: float  # all cpu_calls run one after another in the main process
    cpu_expected: int  # cpu_work(cpu_n)
    big_result_reps: int
    big_result_bytes: int
    surface_side: int
    surface_reps: int
    big_definition_calls: int
    big_definition_bytes: int
    startup_reps: int
    demo_frames: int
    group_items: int  # x + 1 items of one f.map() group, against as many separate calls
    group_repeats: int  # runs of each, the fastest counts
    inversion_low_calls: int  # low-priority calls queued before the high one
    inversion_trials: int  # the median counts
    dask_tiny_calls: int
    dask_round_trips: int
    growth_max_pending: int  # the highest pending count of the growth tables (10^2 up to it)
    growth_reps: int  # runs of each growth measurement; the median (or fastest) counts
    growth_memory_calls: int  # pending calls whose memory is measured
    growth_tiny_calls: int  # tiny calls per batch, for each worker count
    growth_budget_ready: int  # completions ready when update(budget) is timed


def expect(condition: bool, message: str) -> None:
    """Raise BenchmarkError with ``message`` unless ``condition``."""
    if not condition:
        raise BenchmarkError(message)


def percentile(samples: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of ``samples``: ``fraction`` 0.5 is the median."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]
