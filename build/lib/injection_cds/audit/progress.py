"""A progress bar with rate and ETA, drawn only on a terminal; and bounded parallel maps."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.pool import AsyncResult, Pool
from typing import IO, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Progress:
    """One bar per phase: ``label |█████░░░| 45% 1,234/2,700 unit 950/s ETA 0:00:02``."""

    def __init__(self, stream: IO[str], enabled: bool, width: int = 28) -> None:
        self.stream = stream
        self.enabled = enabled
        self.width = width
        self._label = ""
        self._unit = ""
        self._total = 0
        self._done = 0
        self._started = 0.0
        self._drawn = 0.0

    def start(self, label: str, total: int, unit: str) -> None:
        """Begin a phase of ``total`` units."""
        self._label, self._total, self._unit = label, max(total, 0), unit
        self._done, self._started, self._drawn = 0, time.monotonic(), 0.0
        self._draw(force=True)

    def advance(self, count: int) -> None:
        """Count ``count`` more units done."""
        self._done += count
        self._draw()

    def finish(self) -> None:
        """End the phase (the bar stays, on its own line)."""
        if self.enabled:
            self._done = max(self._done, self._total)
            self._draw(force=True)
            self.stream.write("\n")
            self.stream.flush()

    def _draw(self, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._drawn < 0.1:
            return
        self._drawn = now
        elapsed = max(now - self._started, 1e-9)
        fraction = min(self._done / self._total, 1.0) if self._total else 0.0
        filled = int(fraction * self.width)
        rate = self._done / elapsed
        remaining = (self._total - self._done) / rate if rate > 0 else None
        eta = _clock(remaining) if remaining is not None and fraction < 1 else "--:--"
        units = self._unit if self._unit != "bytes" else "MB"
        scale = 1e6 if self._unit == "bytes" else 1.0
        self.stream.write(
            f"\r{self._label:<8} |{'█' * filled}{'░' * (self.width - filled)}| "
            f"{fraction:4.0%} {self._done / scale:,.0f}/{self._total / scale:,.0f} {units} "
            f"{rate / scale:,.0f} {units}/s ETA {eta}  "
        )
        self.stream.flush()


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def bounded_map(
    pool: Pool | None, function: Callable[[T], R], items: Iterable[T], in_flight: int
) -> Iterator[R]:
    """``map`` in order, at most ``in_flight`` items submitted at once (memory stays flat).

    Without a pool, runs in this process.
    """
    if pool is None:
        for item in items:
            yield function(item)
        return
    pending: deque[AsyncResult[R]] = deque()
    for item in items:
        pending.append(pool.apply_async(function, (item,)))
        while len(pending) >= in_flight:
            yield pending.popleft().get()
    while pending:
        yield pending.popleft().get()
