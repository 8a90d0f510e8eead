"""Headless Debian Chromium, run as a bounded child process (PDFs and screenshots, no network).

Every run gets its own profile directory, no GPU, and a proxy that goes nowhere so a page cannot
reach the network even if something in it slips past the inert copy's CSP.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from alerts.cases.errors import DossierError

_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--disable-background-networking",
    "--disable-sync",
    "--mute-audio",
    "--hide-scrollbars",
    "--proxy-server=127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
)


def find_chromium(name: str = "chromium") -> str:
    path = shutil.which(name)
    if not path:
        raise DossierError(f"{name!r} not found: install Debian's chromium (apt-get install chromium)")
    return path


def run(binary: str, args: list[str], target: Path, *, timeout: float = 30.0) -> None:
    """Run Chromium on a local file; raise DossierError when it fails or overruns.

    Scripts are kept out by the pages themselves (a CSP without script sources, scripts removed
    from captured pages): ``--blink-settings=scriptEnabled=false`` stops headless screenshots.
    """
    with tempfile.TemporaryDirectory(prefix="markwatch-chromium-") as profile:
        cmd = [find_chromium(binary), *_FLAGS, f"--user-data-dir={profile}", *args]
        cmd.append(target.resolve().as_uri())
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise DossierError(f"chromium took longer than {timeout:.0f} s on {target.name}") from None
        if proc.returncode != 0:
            tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
            raise DossierError(f"chromium failed ({proc.returncode}) on {target.name}: {tail[0][:300]}")


def print_pdf(binary: str, html: Path, pdf: Path, *, timeout: float = 60.0) -> None:
    run(binary, ["--no-pdf-header-footer", f"--print-to-pdf={pdf}"], html, timeout=timeout)
    if not pdf.exists() or pdf.stat().st_size == 0:
        raise DossierError("chromium wrote no PDF")


def screenshot(
    binary: str, html: Path, png: Path, *, width: int = 1200, height: int = 900, timeout: float = 30.0
) -> None:
    run(binary, [f"--screenshot={png}", f"--window-size={width},{height}"], html, timeout=timeout)
    if not png.exists():
        raise DossierError("chromium wrote no screenshot")
