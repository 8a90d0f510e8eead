"""The demo world for `markwatch scan --demo` (and `make demo`): its server in a child process.

A child process, not a thread, so the server and the crawler do not share one interpreter lock.
The captcha burst limit is off: the demo shows a clean night; tests turn the hostility up.

Port: 8700 (the shipped sources' own base_url) when it is free, else any free port. The demo
marketplace sources declare `identity` (the item id, not the URL's host:port), so a demo rerun on
any port finds the same listings (incremental: no new alerts, no new mail).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DEMO_CONFIG = Path(__file__).parent / "markwatch.toml"


class DemoWorld:
    def __init__(self, *args: str) -> None:
        self.args = list(args)
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def start(self, ports: tuple[int, ...] = (8700, 0)) -> DemoWorld:
        for port in ports:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "crawler.demo.server",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--burst-limit",
                    "",
                    *self.args,
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            line = self.proc.stdout.readline().strip() if self.proc.stdout else ""
            if line.startswith("http://"):
                self.url = line
                return self
            self.stop()
        raise RuntimeError("the demo world did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def __enter__(self) -> DemoWorld:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
