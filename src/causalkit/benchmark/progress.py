"""A progress line on stderr every few seconds: for logs as well as terminals (no bar).

Example
-------
>>> import io
>>> stream = io.StringIO()
>>> line = ProgressLine(total=4, interval=0.0, stream=stream, clock=iter(range(100)).__next__)
>>> line.update(failed=False); line.update(failed=True)
>>> stream.getvalue().splitlines()[-1]
'benchmark: 2/4 fits (50%), 1 failed, 0:02 elapsed, ~0:02 left'
"""

from __future__ import annotations

import sys
import time
from typing import Callable, TextIO


def _clock_text(seconds: float) -> str:
    seconds = int(round(max(seconds, 0.0)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class ProgressLine:
    """Counts finished fits and writes one line every ``interval`` seconds (and at the end).

    Nothing is written before ``interval`` seconds have passed, so short runs
    stay quiet; ``always=True`` writes the final line even then.
    """

    def __init__(self, total: int, interval: float = 5.0, stream: TextIO | None = None,
                 clock: Callable[[], float] = time.monotonic, done: int = 0,
                 always: bool = False) -> None:
        self.total, self.interval, self.stream = total, interval, stream or sys.stderr
        self.clock, self.always = clock, always
        self.start = self.last = clock()
        self.done, self.failed, self.resumed = 0, 0, done
        self.written = 0

    def text(self, now: float) -> str:
        elapsed = now - self.start
        n = self.done + self.resumed
        share = f" ({100 * n / self.total:.0f}%)" if self.total else ""
        left = (f", ~{_clock_text(elapsed / self.done * (self.total - n))} left"
                if self.done else "")
        resumed = f", {self.resumed} from the store" if self.resumed else ""
        return (f"benchmark: {n}/{self.total} fits{share}, {self.failed} failed{resumed}, "
                f"{_clock_text(elapsed)} elapsed{left}")

    def _write(self, now: float) -> None:
        print(self.text(now), file=self.stream, flush=True)
        self.last, self.written = now, self.written + 1

    def update(self, failed: bool = False) -> None:
        """One more fit finished."""
        self.done += 1
        self.failed += bool(failed)
        now = self.clock()
        if now - self.last >= self.interval:
            self._write(now)

    def close(self) -> None:
        """The last line, when any line was written (or ``always``)."""
        if self.written or self.always:
            self._write(self.clock())
