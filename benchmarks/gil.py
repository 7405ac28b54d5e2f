#!/usr/bin/env python3
"""Does each codec release the GIL while it compresses? (Decides threads or processes.)

    python benchmarks/gil.py

A worker thread compresses while the main thread counts in a pure-Python loop. If the codec
releases the GIL, the main thread keeps (about) its idle rate; if it holds it, the main thread
stalls. A C call known to hold the GIL is the control. Counting progress, not speed-up, keeps
the answer right on a busy machine.
"""

from __future__ import annotations

import gzip
import shutil
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path


def sample() -> bytes:
    """A few MB of real machine code: the go binary, else this Python."""
    binary = shutil.which("go") or sys.executable
    return Path(binary).read_bytes()[:1_500_000]


def spin_rate(seconds: float = 0.5) -> float:
    count, end = 0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        count += 1
    return count / seconds


def progress_during(work: Callable[[], object], idle: float) -> tuple[float, float]:
    done = threading.Event()

    def run() -> None:
        work()
        done.set()

    thread = threading.Thread(target=run)
    start = time.perf_counter()
    thread.start()
    count = 0
    while not done.is_set():
        count += 1
    elapsed = time.perf_counter() - start
    thread.join()
    return elapsed, count / elapsed / idle


def main() -> None:
    data = sample()
    codecs: dict[str, Callable[[], object]] = {
        "zlib (gzip -9)": lambda: [gzip.compress(data, compresslevel=9, mtime=0) for _ in range(3)],
    }
    try:
        import brotli

        codecs["brotli q11"] = lambda: brotli.compress(data, quality=11, lgwin=22)
    except ImportError:
        print("brotli: not installed")
    try:
        import zopfli.gzip

        codecs["zopfli"] = lambda: zopfli.gzip.compress(data[:200_000], numiterations=1)
    except ImportError:
        print("zopfli: not installed (pip install 'wasmship[zopfli]')")
    try:
        import zstandard

        codecs["zstd 19"] = lambda: zstandard.ZstdCompressor(level=19).compress(data)
    except ImportError:
        print("zstandard: not installed (pip install 'wasmship[zstd]')")
    big = list(range(8_000_000, 0, -1))
    codecs["control (holds the GIL)"] = lambda: (sorted(big), bytes(300_000_000))

    idle = spin_rate()
    print(f"{'codec':<26} {'seconds':>8}  main thread's progress (100% = GIL released)")
    for name, work in codecs.items():
        elapsed, share = progress_during(work, idle)
        print(f"{name:<26} {elapsed:8.2f}  {share:.0%}")


if __name__ == "__main__":
    main()
