"""Progress on a terminal, for the commands: a bar on a TTY, plain lines elsewhere, nothing at -v 0.

On a TTY each stage is a tqdm bar (count, total, rate, ETA; sayings print above it). Elsewhere (a
log, a pipe) each stage prints one line when it begins, one every `every` seconds while it runs
and one when it ends, each prefixed with the run's elapsed time. Numbers are written the one way
every command writes them (counts.py).
"""

from __future__ import annotations

import os
import time
from typing import TextIO

from tqdm import tqdm

from dwca_port.counts import number, seconds
from dwca_port.progress import SILENT, Progress

PLAIN_EVERY = 10.0  # seconds between two lines of a running stage when not on a TTY


class TerminalProgress(Progress):
    def __init__(self, stream: TextIO, bar: bool, every: float = PLAIN_EVERY):
        self.stream, self.bar, self.every = stream, bar, every
        self.started = time.monotonic()
        self._tqdm: tqdm | None = None
        self._name: str | None = None

    # -- Progress ---------------------------------------------------------------------------------

    def stage(self, name: str, total: int | None = None, unit: str = "rows") -> None:
        self._close()
        self._name, self._total, self._unit, self._done = name, total, unit, 0
        self._stage_started = self._last_line = time.monotonic()
        if self.bar:
            self._tqdm = tqdm(
                total=total,
                desc=name,
                unit=unit if unit != "bytes" else "B",
                unit_scale=unit == "bytes",
                file=self.stream,
                # follows the terminal's width; a terminal that reports none (0 columns) gets 80
                dynamic_ncols=_width(self.stream) > 0,
                ncols=None if _width(self.stream) > 0 else 80,
                leave=True,
            )
        else:
            self._line(f"{name}: " + (f"{number(total)} {unit} to go" if total is not None else "started"))

    def advance(self, amount: int) -> None:
        if self._name is None:
            return
        self._done += amount
        if self._tqdm is not None:
            self._tqdm.update(amount)
            return
        now = time.monotonic()
        if now - self._last_line >= self.every:
            self._last_line = now
            self._line(f"{self._name}: {self._position(now)}")

    def say(self, message: str) -> None:
        if self._tqdm is not None:
            self._tqdm.write(message, file=self.stream)
        else:
            self._line(message)

    def finish(self) -> None:
        self._close()

    # -- helpers ----------------------------------------------------------------------------------

    def _position(self, now: float) -> str:
        elapsed = max(now - self._stage_started, 1e-9)
        rate = self._done / elapsed
        text = f"{number(self._done)}"
        if self._total:
            text += f" of {number(self._total)} {self._unit} ({100 * self._done / self._total:.0f}%)"
            if rate > 0 and self._done < self._total:
                text += f", about {seconds((self._total - self._done) / rate)} left"
        else:
            text += f" {self._unit}"
        return text + f", {number(int(rate))} {self._unit}/s"

    def _close(self) -> None:
        if self._name is None:
            return
        if self._tqdm is not None:
            self._tqdm.close()
            self._tqdm = None
        else:
            elapsed = time.monotonic() - self._stage_started
            if self._done or self._total is not None:
                self._line(f"{self._name}: {number(self._done)} {self._unit} in {seconds(elapsed)}")
            else:  # a stage that counts nothing (caches): only its time
                self._line(f"{self._name}: finished in {seconds(elapsed)}")
        self._name = None

    def _line(self, message: str) -> None:
        self.stream.write(f"[{time.monotonic() - self.started:7.1f}s] {message}\n")
        self.stream.flush()


def _width(stream) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        return 0


def terminal_progress(stream, verbosity: int) -> Progress:
    """The listener a command gives its work: nothing at verbosity 0, a bar when `stream` is a TTY."""
    if verbosity <= 0:
        return SILENT
    raw = getattr(stream, "_out", stream)  # Django's OutputWrapper keeps the real stream there
    return TerminalProgress(raw, bar=bool(getattr(raw, "isatty", lambda: False)()))
