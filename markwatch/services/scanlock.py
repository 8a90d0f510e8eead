"""One scan at a time per state folder: an fcntl lock on ``scan.lock`` that holds the owner's pid.

The kernel drops an fcntl lock when its process dies, however it dies (SIGKILL included), so a
lock file left behind by a killed scan never blocks the next one: only a live holder does.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from pathlib import Path


class ScanBusy(Exception):
    """Another scan holds the lock; the message names its pid and start time."""

    exit_code = 3


class ScanLock:
    def __init__(self, state_dir: str | Path) -> None:
        self.path = Path(state_dir) / "scan.lock"
        self._fd: int | None = None

    def holder(self) -> dict:
        """What the lock file says about its holder (may be stale when nobody holds the lock)."""
        try:
            return json.loads(self.path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            return {}

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            h = self.holder()
            since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(h["since"])) if "since" in h else "?"
            raise ScanBusy(
                f"another scan is running (pid {h.get('pid', '?')} on {h.get('host', '?')}, "
                f"since {since}; lock {self.path})"
            ) from None
        info = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> ScanLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
