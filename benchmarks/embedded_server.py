"""Benchmark: repeated ``smnb.transcribe`` calls on the shared embedded server.

Without a URL or key every session runs against smnb's embedded local server. The
process keeps one (:mod:`smnb.session.embedded`): the first call starts it and its
recognizer worker processes; later calls must start no process and not be slower. For
contrast, ``fresh`` stops the server before each call, which is what every call paid
when each one started its own server.

Printed per call: wall seconds, the process's child processes (recursive, so the
workers under multiprocessing's forkserver count) and how many are new.

    python benchmarks/embedded_server.py [--calls 3] [--clip PATH]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import smnb  # noqa: E402
from smnb.session import embedded  # noqa: E402

CLIP = ROOT / "smnb" / "samples" / "librivox-ss01-0880.wav"


def children() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


def run(mode: str, calls: int, clip: Path) -> None:
    embedded.close()
    seen = children()
    for k in range(calls):
        if mode == "fresh":
            embedded.close()
        start = time.perf_counter()
        result = smnb.transcribe(clip, pace="fast", timeout=120)
        wall = time.perf_counter() - start
        now = children()
        print(
            f"{mode:>6} call {k + 1}: {wall:6.2f} s, {len(now)} child processes "
            f"({len(now - seen)} new), {len(result.words)} final items"
        )
        seen |= now
    embedded.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3)
    parser.add_argument("--clip", type=Path, default=CLIP)
    args = parser.parse_args()
    for mode in ("shared", "fresh"):
        run(mode, args.calls, args.clip)


if __name__ == "__main__":  # the worker processes re-import this file until they run as -m
    main()
