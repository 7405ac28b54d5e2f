"""Timing a command, and a series of timings taken round by round (ABAB, never AAA BBB)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Run:
    """One measured command: wall time and the peak resident memory of its process tree."""

    seconds: float
    peak_mib: float


@dataclass
class Series:
    """The runs of one measurement, one per round."""

    runs: list[Run] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(r.seconds for r in self.runs)

    @property
    def low(self) -> float:
        return min(r.seconds for r in self.runs)

    @property
    def high(self) -> float:
        return max(r.seconds for r in self.runs)

    @property
    def peak_mib(self) -> float:
        return statistics.median(r.peak_mib for r in self.runs)


def measure(cmd: Sequence[str], cwd: Path, env: dict[str, str]) -> Run:
    """Run CMD, timing it and reading the peak RSS of it and its children from wait4.

    Linux carries a process's peak RSS across fork and exec, so this process must stay small:
    everything heavy (compressions timed alone) runs in a child process.
    """
    start = time.perf_counter()
    proc = subprocess.Popen(
        list(cmd), cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    if proc.returncode != 0:
        raise SystemExit(f"benchmark: {' '.join(cmd)} failed ({proc.returncode}):\n{stderr}")
    return Run(seconds, usage.ru_maxrss / 1024)


Step = tuple[str, Callable[[int], Run]]


def interleave(label: str, rounds: int, steps: Sequence[Step], into: dict[str, Series]) -> None:
    """Run every step once per round, in order, so shared-machine load hits them all alike."""
    for round_ in range(rounds):
        for key, step in steps:
            run = step(round_)
            into.setdefault(key, Series()).runs.append(run)
            print(
                f"benchmark: {label}, round {round_ + 1}/{rounds}: {key} {run.seconds:.2f} s",
                file=sys.stderr,
                flush=True,
            )
