"""Progress of long commands (import, export, geocode, generate, release) on standard error.

On a terminal, a tqdm bar. Otherwise (cron, a log file, CI) tqdm would draw carriage-return frames or stay
silent; there, one plain line every few seconds says how far it is, how fast and for how long, so a run in a
log is never silent for minutes.
"""

import sys
import time

from tqdm import tqdm

LOG_EVERY_SECONDS = 10.0


class Progress:
    """`with Progress(total, "import", "row") as progress: … progress.update(n)`."""

    def __init__(
        self, total: int | None, description: str, unit: str, *, enabled=True, stream=None, every=LOG_EVERY_SECONDS
    ):
        self.enabled = enabled  # off for the same work done inside a request (the API's import)
        self.total, self.description, self.unit = total, description, unit
        self.stream = stream if stream is not None else sys.stderr
        self.every = every
        self.done = 0
        self.started = self.last_line = time.monotonic()
        on_terminal = enabled and self._on_terminal()
        self.bar = tqdm(total=total, desc=description, unit=unit, file=self.stream) if on_terminal else None

    def _on_terminal(self) -> bool:
        isatty = getattr(self.stream, "isatty", None)
        return bool(isatty and isatty())

    def update(self, count: int = 1) -> None:
        self.done += count
        if self.bar is not None:
            self.bar.update(count)
            return
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.last_line >= self.every:
            self.last_line = now
            self._line(now)

    def _line(self, now: float) -> None:
        elapsed = now - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        of_total = f"/{self.total:,}" if self.total is not None else ""
        share = f" ({100 * self.done / self.total:.0f}%)" if self.total else ""
        self.stream.write(
            f"{self.description}: {self.done:,}{of_total} {self.unit}s{share}, {rate:,.0f} {self.unit}s/s, "
            f"{elapsed:,.0f} s elapsed\n"
        )
        self.stream.flush()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.enabled:
            self._line(time.monotonic())  # the final count, always

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
