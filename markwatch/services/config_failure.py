"""A scheduled scan that could not start because of its configuration is a failed run like any other.

`markwatch scan` exits 2 on a configuration error (a broken source file, an unset `${NAME}`, a bad
`markwatch.toml`) before it opens the run log, so on a terminal the one-line error is the whole story.
Run by the scheduler (`--trigger schedule`), nobody reads that terminal: the scan records the run as
`failed` with the error in `runs.sqlite`, writes the metrics file and mails the operators, exactly as
for a scan that failed on its sources. When the configuration file itself does not load, the scan
cannot say where to record it: the scheduler, seeing exit 2 and no such run, records it with the
settings it started with.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from markwatch.services.scan import ScanReport

log = logging.getLogger("markwatch.services.schedule")

_started: dict[str, Any] = {}  # the settings `markwatch schedule` started with (fallback)


def remember_settings(settings: Any) -> None:
    _started["settings"] = settings


def error_line(lines: list[str]) -> str:
    """The scan's one-line error from its stderr tail ("error: …" preferred), without the prefix."""
    text = [x.strip() for x in lines if x.strip()]
    errs = [x for x in text if x.startswith("error:")]
    line = (errs or text or ["configuration error (no message)"])[-1]
    return line.removeprefix("error:").strip()[:600]


def _settings(config: str | None) -> tuple[Any, str]:
    from markwatch.config import load_settings
    from markwatch.errors import FileError

    try:
        return load_settings(config), ""
    except (FileError, OSError, ValueError) as exc:
        fallback = _started.get("settings")
        if fallback is None:
            raise
        return fallback, f" (configuration unreadable now: {' '.join(str(exc).split())[:200]})"


def record_config_failure(
    config: str | None,
    message: str,
    *,
    started: float,
    trigger: str = "schedule",
    settings: Any = None,
) -> int:
    """Record one failed run for *message*; write the metrics file; mail the operators. Returns the run id
    (0 when there is nowhere to record it, or the scan recorded it itself). Never raises: the scheduler
    must keep running. *settings*: the scan's own (the scan records it), else read from *config*."""
    note = ""
    if settings is None:
        try:
            settings, note = _settings(config)
        except Exception as exc:  # noqa: BLE001 - a scheduler keeps running whatever the config holds
            log.error("configuration error not recorded (no settings to record it with: %s): %s", exc, message)
            return 0
    from markwatch.services.runs import RunLog
    from markwatch.services.scan import ScanReport, log_file_of

    error = f"configuration error: {message}{note}"
    duration = time.time() - started
    state = settings.scan.state_dir
    try:
        state.mkdir(parents=True, exist_ok=True)
        with RunLog(state / "runs.sqlite") as runs:
            if _recorded_since(runs, started):
                return 0  # the scan process recorded it itself
            run_id = runs.start([], trigger, False)
            runs.finish(run_id, "failed", totals={}, per_source=[], stages={}, errors=[error], duration=duration)
            report = ScanReport(run_id, "failed", [], {}, duration, errors=[error], log_file=str(log_file_of(settings)))
            _tell(settings, runs, report)
    except Exception as exc:  # noqa: BLE001 - the run log's disk may be the problem too
        log.error("configuration error not recorded in %s: %s: %s", state, exc, message)
        return 0
    log.error("scan #%d failed on its configuration: %s", run_id, message)
    return run_id


def _recorded_since(runs: Any, started: float) -> bool:
    import datetime as dt

    last = runs.last()
    if last is None or last.status != "failed":
        return False
    since = dt.datetime.fromtimestamp(int(started), dt.UTC).isoformat(timespec="seconds")
    return str(last.started_at) >= since and any(str(e).startswith("configuration error:") for e in last.errors)


def _tell(settings: Any, runs: Any, report: ScanReport) -> None:
    """The metrics file and the operators' mail, as after any failed run; neither may stop the other."""
    from markwatch.services.health_out import email_operators, write_metrics

    if settings.scan.metrics_file:
        try:
            write_metrics(settings.scan.metrics_file, report)
        except OSError as exc:
            log.warning("metrics file %s not written: %s", settings.scan.metrics_file, exc)
    if settings.notify.operators and settings.notify.enabled:
        try:
            email_operators(settings, runs, report)
        except Exception as exc:  # noqa: BLE001 - SMTP, outbox disk, DNS: a warning, the run stays recorded
            log.warning("operators not emailed: %s: %s", type(exc).__name__, exc)
