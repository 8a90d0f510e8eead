"""Stopping a crawl on purpose: the time budget, SIGTERM/SIGINT, and a grace period that is kept.

Scrapy's own handlers stop gracefully on the first signal, but "gracefully" waits for every
response in hand to be parsed to its end (ten million rows of one page), and a second signal
stops the reactor with the sources never closed, which a scan then reported as "ok". Here:

- the first SIGTERM/SIGINT asks every crawler to close (reason ``shutdown``), marks the process
  as stopping (the spiders check `stopping()` inside a page and stop there), and arms a timer:
  whatever is not closed after *grace* seconds is stopped at once;
- the second one stops at once (the reactor is crashed: nothing waits for the engines);
- the time budget (`request()`) uses the same flag, per crawler.

`interrupted()` tells the scan afterwards that it was stopped by a signal: its run is
``interrupted``, never ``ok``.
"""

from __future__ import annotations

import logging
import signal
from typing import Any

from crawler.outcome import STOPPING  # why this crawler is being stopped (budget, shutdown)

logger = logging.getLogger(__name__)

GRACE_SECONDS = 30.0

_state: dict[str, Any] = {"signals": 0, "signal": "", "now": False}


def reset() -> None:
    _state.update(signals=0, signal="", now=False)


def interrupted() -> str:
    """The name of the signal that stopped this process's crawl ('' when none did)."""
    return str(_state["signal"])


def stopped_at_once() -> bool:
    return bool(_state["now"])


def request(crawler: Any, reason: str) -> None:
    """Ask one crawler to stop (the spider stops reading the page in hand at its next check)."""
    if crawler.stats is not None and not crawler.stats.get_value(STOPPING):
        crawler.stats.set_value(STOPPING, reason)


def stopping(crawler: Any) -> str:
    """Why *crawler* should stop now ('' when it should go on)."""
    if _state["signals"]:
        return "shutdown"
    stats = getattr(crawler, "stats", None)
    return str(stats.get_value(STOPPING) or "") if stats is not None else ""


def close_all(crawlers: list[Any], reason: str) -> None:
    """Close every crawler still running with *reason* (its finish reason in the stats)."""
    from scrapy.utils.defer import deferred_from_coro

    for crawler in crawlers:
        request(crawler, reason)
        engine = getattr(crawler, "engine", None)
        if crawler.crawling and engine is not None and engine.spider is not None:
            deferred_from_coro(engine.close_spider_async(reason=reason))


class SignalStop:
    """SIGTERM/SIGINT handling for one process's crawl; `install()` before starting the reactor.

    Start the CrawlerProcess with ``install_signal_handlers=False`` so that neither Scrapy nor
    Twisted installs its own.
    """

    def __init__(self, crawlers: list[Any], grace: float = GRACE_SECONDS) -> None:
        self.crawlers = crawlers
        self.grace = grace
        self._timer: Any = None

    def install(self) -> None:
        reset()
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)

    def uninstall(self) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)

    def _on_signal(self, signum: int, _frame: Any) -> None:
        from twisted.internet import reactor

        _state["signals"] += 1
        name = signal.Signals(signum).name
        if _state["signals"] == 1:
            _state["signal"] = name
            reactor.callFromThread(self._graceful, name)  # type: ignore[attr-defined]
        else:
            _state["now"] = True
            reactor.callFromThread(self._now, f"second {name}")  # type: ignore[attr-defined]

    def _graceful(self, name: str) -> None:
        from twisted.internet import reactor

        logger.warning(
            "received %s: stopping the crawl (at most %.0f s; send it again to stop at once)", name, self.grace
        )
        close_all(self.crawlers, "shutdown")
        self._timer = reactor.callLater(self.grace, self._now, "grace period over")  # type: ignore[attr-defined,arg-type]

    def _now(self, why: str) -> None:
        from twisted.internet import reactor

        _state["now"] = True
        if not reactor.running:  # type: ignore[attr-defined]
            return
        logger.warning("stopping at once (%s)", why)
        reactor.crash()  # type: ignore[attr-defined,misc]  # no shutdown triggers: nothing waits for an engine
