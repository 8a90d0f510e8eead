"""The nightly scheduler: APScheduler 3.x, a cron trigger, jobs persisted in SQLite.

Each run starts `python -m markwatch scan` as a child process (the Twisted reactor runs once
per process, so a long-lived scheduler cannot crawl in-process). The job lives in an SQLAlchemy
job store, so a restarted scheduler keeps its next run time and runs a missed one (once, thanks
to ``coalesce``) if it is no later than ``misfire_grace_time``. ``max_instances=1`` and the scan's
own lock keep two scans from overlapping. SIGTERM stops the running scan gracefully (it resumes
next time) and shuts the scheduler down.
"""

from __future__ import annotations

import collections
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

log = logging.getLogger("markwatch.services.schedule")

JOB_ID = "markwatch-scan"
_current: dict[str, subprocess.Popen] = {}
_EXIT = {0: "ok", 1: "some sources degraded", 2: "configuration error", 3: "another scan was running"}


def cron_trigger(expr: str, timezone: str) -> CronTrigger:
    """5 fields (minute hour day month weekday) or 6 with seconds first; ValueError names the problem."""
    fields = expr.split()
    tz = ZoneInfo(timezone)
    if len(fields) == 5:
        return CronTrigger.from_crontab(expr, timezone=tz)
    if len(fields) == 6:
        sec, minute, hour, day, month, dow = fields
        return CronTrigger(second=sec, minute=minute, hour=hour, day=day, month=month, day_of_week=dow, timezone=tz)
    raise ValueError(f"cron {expr!r}: expected 5 fields (minute hour day month weekday) or 6 (seconds first)")


def scan_command(config: str | None) -> list[str]:
    cmd = [sys.executable, "-m", "markwatch", "scan", "--no-progress", "--trigger", "schedule"]
    return cmd + (["--config", config] if config else [])


def run_scheduled_scan(config: str | None, cwd: str, timeout: int) -> int:
    """The job: one scan in a child process, logged; a scan over its time limit is stopped."""
    cmd = scan_command(config)
    log.info("scan starting: %s (in %s)", " ".join(cmd[2:]), cwd)
    t = time.monotonic()
    started = time.time()
    proc = subprocess.Popen(cmd, cwd=cwd, stderr=subprocess.PIPE, text=True, errors="replace")
    _current["scan"] = proc
    tail = _relay_stderr(proc)
    try:
        rc = proc.wait(timeout)
    except subprocess.TimeoutExpired:
        log.error("scan still running after %d s: stopping it (it resumes next run)", timeout)
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(120)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
    finally:
        _current.pop("scan", None)
    level = logging.INFO if rc == 0 else logging.WARNING
    log.log(level, "scan finished in %.1f s: exit %d (%s)", time.monotonic() - t, rc, _EXIT.get(rc, "failed"))
    if rc == 2:  # it stopped before its run log: record it as a failed run (runs, metrics, operators' mail)
        from markwatch.services.config_failure import error_line, record_config_failure

        tail.join(5)
        record_config_failure(config, error_line(list(tail.lines)), started=started)
    return rc


class _Tail(threading.Thread):
    """Copies the scan's stderr to ours line by line, keeping the last lines (its one-line error)."""

    def __init__(self, stream) -> None:
        super().__init__(daemon=True)
        self.stream = stream
        self.lines: collections.deque[str] = collections.deque(maxlen=40)

    def run(self) -> None:
        for line in self.stream:
            self.lines.append(line.rstrip("\n"))
            sys.stderr.write(line)
        self.stream.close()


def _relay_stderr(proc: subprocess.Popen) -> _Tail:
    t = _Tail(proc.stderr)
    t.start()
    return t


def _jobstore(path: Path):
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    path.parent.mkdir(parents=True, exist_ok=True)
    return SQLAlchemyJobStore(url=f"sqlite:///{path.resolve()}")


def open_scheduler(settings: Any, *, paused: bool = True):
    """A BackgroundScheduler on the persistent job store, started paused (nothing runs yet)."""
    from apscheduler.schedulers.background import BackgroundScheduler

    sc = settings.schedule
    sched = BackgroundScheduler(
        timezone=ZoneInfo(sc.timezone),
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": sc.misfire_grace_time},
    )
    sched.add_jobstore(_jobstore(sc.jobstore), "default")
    sched.start(paused=paused)
    return sched


def ensure_job(sched, settings: Any, config: str | None, cwd: str):
    """Add the scan job, or keep the stored one (and its next run time) when nothing changed."""
    sc = settings.schedule
    trigger = cron_trigger(sc.cron, sc.timezone)
    args = [config, cwd, sc.timeout]
    job = sched.get_job(JOB_ID)
    if (
        job is not None
        and repr(job.trigger) == repr(trigger)
        and list(job.args) == args
        and job.misfire_grace_time == sc.misfire_grace_time
    ):
        log.info("kept stored job %s; next run %s", JOB_ID, job.next_run_time)
        return job
    job = sched.add_job(
        run_scheduled_scan,
        trigger=trigger,
        id=JOB_ID,
        name="markwatch scan",
        args=args,
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=sc.misfire_grace_time,
    )
    log.info("%s job %s: cron %r in %s", "replaced" if job else "added", JOB_ID, sc.cron, sc.timezone)
    return job


def next_times(trigger: CronTrigger, n: int, now: datetime | None = None) -> list[datetime]:
    now = now or datetime.now(trigger.timezone)
    out, prev = [], None
    for _ in range(n):
        nxt = trigger.get_next_fire_time(prev, now if prev is None else prev)
        if nxt is None:
            break
        out.append(nxt)
        now = nxt
        prev = nxt
    return out


def serve(settings: Any, config: str | None) -> int:
    """Run until SIGTERM/SIGINT: the job store keeps the schedule across restarts."""
    stop = threading.Event()

    def on_signal(signum, frame):
        log.info("received %s: shutting down", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    cwd = os.getcwd()
    from markwatch.services.config_failure import remember_settings

    remember_settings(settings)
    sched = open_scheduler(settings, paused=True)
    try:
        ensure_job(sched, settings, config, cwd)
        sched.resume()
        job = sched.get_job(JOB_ID)
        log.info(
            "scheduler running (pid %d); next run at %s",
            os.getpid(),
            job.next_run_time.isoformat() if job and job.next_run_time else "none",
        )
        while not stop.wait(1.0):
            pass
    finally:
        proc = _current.get("scan")
        if proc is not None and proc.poll() is None:
            log.info("stopping the running scan (pid %d); it resumes at the next run", proc.pid)
            proc.send_signal(signal.SIGTERM)
        sched.shutdown(wait=True)
        log.info("scheduler stopped")
    return 0
