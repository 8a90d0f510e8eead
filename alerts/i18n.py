"""Languages, local time and numbers for everything people read: the review site, the CLI's human
output, digests and dossiers.

The standard way: message catalogues in gettext ``.po`` files (``alerts/locale/<lang>/LC_MESSAGES/
messages.po``), extracted with Babel (``babel.cfg``, ``make i18n``), read by Jinja2's i18n extension
(``install(env)``: ``{% trans %}`` and ``_()`` in templates) and by Python code (``Localizer._``).
Source strings are English; ``zh_CN`` is complete and the default.

The ``.po`` files are the only artefact: they are compiled to gettext translations in memory
the first time a language is used (Babel's ``read_po`` + ``write_mo``), so a fresh clone needs no
build step and an edited catalogue takes effect at the next start.

Times are stored in UTC; ``Localizer`` shows them in the configured time zone (default
Asia/Shanghai), naming the zone, and a plain day typed into a filter means that local day
(``day_range``). Numbers and percentages use the locale's conventions (Babel).
"""

from __future__ import annotations

import contextvars
import gettext as _gettext
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
LOCALES = ("zh_CN", "en")  # the languages with a catalogue; the first is the default
DEFAULT_LOCALE = "zh_CN"
DEFAULT_TIMEZONE = "Asia/Shanghai"
LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}


def normalise_locale(value: Any, default: str = DEFAULT_LOCALE) -> str:
    """One of ``LOCALES`` for what a user, a header or a config wrote (``zh``, ``zh-CN``, ``en_US``…)."""
    text = str(value or "").strip().replace("-", "_")
    if not text:
        return default
    low = text.lower()
    for loc in LOCALES:
        if low == loc.lower():
            return loc
    lang = low.split("_")[0]
    if lang == "zh":
        return "zh_CN"
    if lang == "en":
        return "en"
    return default


def from_accept_language(header: str | None, default: str = DEFAULT_LOCALE) -> str:
    """The best of ``LOCALES`` for an HTTP ``Accept-Language`` header (by q-value), else ``default``."""
    best: tuple[float, str] | None = None
    for part in (header or "").split(","):
        tag, _, params = part.strip().partition(";")
        if not tag or tag == "*":
            continue
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                continue
        loc = normalise_locale(tag, default="")
        if loc and (best is None or q > best[0]):
            best = (q, loc)
    return best[1] if best else default


def timezone(name: str | None) -> tzinfo:
    """The zone called ``name`` (IANA), Asia/Shanghai when empty; ValueError for an unknown name."""
    try:
        return ZoneInfo(name or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (an IANA name such as Asia/Shanghai)") from None


@lru_cache(maxsize=8)
def translations(locale: str) -> _gettext.NullTranslations:
    """The gettext translations of ``locale``, compiled in memory from its ``.po`` file."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    path = LOCALE_DIR / normalise_locale(locale) / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not path.exists():
        return _gettext.NullTranslations()
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=normalise_locale(locale))
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return _gettext.GNUTranslations(buf)


@dataclass(frozen=True)
class Localizer:
    """One reader's language and time zone: translate, and format times and numbers for them."""

    locale: str = DEFAULT_LOCALE
    tz_name: str = DEFAULT_TIMEZONE
    _tz: tzinfo = field(default=UTC, repr=False, compare=False)
    _babel: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        from babel import Locale

        object.__setattr__(self, "locale", normalise_locale(self.locale))
        object.__setattr__(self, "_tz", timezone(self.tz_name))
        # Parsed once: Babel parsing a locale name on every call costs more than the formatting.
        object.__setattr__(self, "_babel", Locale.parse(self.locale))

    @property
    def tz(self) -> tzinfo:
        return self._tz

    @property
    def lang(self) -> str:
        """For ``<html lang>``: ``zh-CN`` or ``en``."""
        return self.locale.replace("_", "-")

    # -- messages ------------------------------------------------------------------------------
    def gettext(self, message: str) -> str:
        return translations(self.locale).gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return translations(self.locale).ngettext(singular, plural, n)

    def pgettext(self, context: str, message: str) -> str:
        return translations(self.locale).pgettext(context, message)

    def npgettext(self, context: str, singular: str, plural: str, n: int) -> str:
        return translations(self.locale).npgettext(context, singular, plural, n)

    def _(self, message: str, **values: Any) -> str:
        """``message`` translated, then ``%(name)s`` placeholders filled (as Jinja2's newstyle gettext)."""
        text = self.gettext(message)
        return text % values if values else text

    # -- times and numbers ---------------------------------------------------------------------
    def local(self, dt: datetime) -> datetime:
        """``dt`` (UTC if naive) in the reader's time zone."""
        aware = dt if dt.tzinfo else dt.replace(tzinfo=UTC)
        return aware.astimezone(self._tz)

    def zone_name(self, dt: datetime | None = None) -> str:
        """The zone as the locale names it: ``中国标准时间``, ``China Standard Time`` (standard or
        daylight time as it was at ``dt``)."""
        local = self.local(dt or datetime.now(UTC))
        return _zone_name(self.locale, self.tz_name, local.utcoffset(), local.dst(), local.replace(tzinfo=None))

    def when(self, dt: datetime | None, fmt: str = "yyyy-MM-dd HH:mm", zone: bool = True) -> str:
        """A stored (UTC) time in the reader's zone, named: ``2026-12-07 01:30 中国标准时间``; ``—`` for None."""
        if dt is None:
            return "—"
        from babel.dates import format_datetime

        text = format_datetime(dt if dt.tzinfo else dt.replace(tzinfo=UTC), fmt, tzinfo=self._tz, locale=self._babel)
        return f"{text} {self.zone_name(dt)}" if zone else text

    def day(self, dt: datetime | date | None, fmt: str = "yyyy-MM-dd") -> str:
        """The reader's local day of a stored time (or a plain date)."""
        if dt is None:
            return "—"
        from babel.dates import format_date

        day = self.local(dt).date() if isinstance(dt, datetime) else dt
        return format_date(day, fmt, locale=self._babel)

    def number(self, n: float | int) -> str:
        from babel.numbers import format_decimal

        return format_decimal(n, locale=self._babel)

    def percent(self, p: float) -> str:
        """A probability as a whole percentage, ``93 %`` (the project's notation in every language;
        never a flat 0 or 100)."""
        p = min(1.0, max(0.0, float(p)))
        if p > 0.995:
            return ">99 %"
        if p < 0.005:
            return "<1 %"
        return f"{self.number(round(p * 100))} %"

    def day_range(self, day: date) -> tuple[datetime, datetime]:
        """The UTC instants [start, end) of one local day: what a date filter for ``day`` means."""
        start = datetime(day.year, day.month, day.day, tzinfo=self._tz)
        end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=self._tz)
        return start.astimezone(UTC), end.astimezone(UTC)

    def utc_offset_hours(self, dt: datetime | None = None) -> float:
        off = self.local(dt or datetime.now(UTC)).utcoffset() or timedelta(0)
        return off.total_seconds() / 3600


_ZONE_NAMES: dict[tuple[str, str, Any, Any], str] = {}


def _zone_name(locale: str, tz_name: str, offset: Any, dst: Any, sample: datetime) -> str:
    """``zzzz`` of Babel, remembered per (locale, zone, offset, DST): the same for every time of a period."""
    key = (locale, tz_name, offset, dst)
    if key not in _ZONE_NAMES:
        from babel.dates import format_datetime

        aware = sample.replace(tzinfo=timezone(tz_name))
        _ZONE_NAMES[key] = format_datetime(aware, "zzzz", tzinfo=timezone(tz_name), locale=locale)
    return _ZONE_NAMES[key]


# -- the current reader, for code far from the request (templates, helpers) -----------------------

_current: contextvars.ContextVar[Localizer | None] = contextvars.ContextVar("markwatch_localizer", default=None)
_DEFAULT = Localizer()


def current() -> Localizer:
    """The reader set by ``using`` (zh_CN, Asia/Shanghai when none is)."""
    return _current.get() or _DEFAULT


def set_current(loc: Localizer) -> contextvars.Token[Localizer | None]:
    return _current.set(loc)


@contextmanager
def using(loc: Localizer) -> Iterator[Localizer]:
    """Within the block, ``current()`` (and templates rendered by ``install``'s env) use ``loc``."""
    token = _current.set(loc)
    try:
        yield loc
    finally:
        _current.reset(token)


def _(message: str, **values: Any) -> str:
    """Translate for the current reader (``using``); the marker Babel extracts from Python code."""
    return current()._(message, **values)


def ngettext(singular: str, plural: str, n: int, **values: Any) -> str:
    text = current().ngettext(singular, plural, n)
    return text % ({"num": n} | values)


class _CurrentTranslations:
    """A gettext translations object that answers in the current reader's language.

    Handed to ``Environment.install_gettext_translations`` once: the shared environment then
    translates every render in the language of whoever it is rendered for.
    """

    def gettext(self, message: str) -> str:
        return current().gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return current().ngettext(singular, plural, n)

    def pgettext(self, context: str, message: str) -> str:
        return current().pgettext(context, message)

    def npgettext(self, context: str, singular: str, plural: str, n: int) -> str:
        return current().npgettext(context, singular, plural, n)


def install(env: Any) -> Any:
    """Give a Jinja2 environment the i18n extension (newstyle gettext: ``_('…%(n)s', n=…)``),
    translations that follow ``current()``, and filters for local times and numbers."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_translations(_CurrentTranslations(), newstyle=True)
    env.filters.update(
        localtime=lambda dt, fmt="yyyy-MM-dd HH:mm", zone=True: current().when(dt, fmt, zone),
        localdate=lambda dt, fmt="yyyy-MM-dd": current().day(dt, fmt),
        number=lambda n: current().number(n),
        lpercent=lambda p: current().percent(p),
    )
    env.globals["i18n"] = current
    return env
