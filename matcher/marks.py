"""The protected-marks contract: one validated record per registered mark."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

USCC_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$")
"""统一社会信用代码 (GB 32100-2015): 18 characters, no I, O, S, V or Z."""

EXCLUDE_MAX = 200

_PARTIAL_DATE_RE = re.compile(r"^[0-9]{4}(-(0[1-9]|1[0-2])(-[0-9]{2})?)?$")


def _partial_date(v: object) -> str:
    """A date as a page states it: a full ISO date, or its year or year and month alone (a
    judgment that says "registered 1999" or "2014-02"), kept at that precision, never padded.
    YAML reads ``2015-10-07`` as a date and ``1999`` as a number: both are accepted."""
    if isinstance(v, dt.datetime):
        v = v.date()
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, int) and not isinstance(v, bool):
        v = str(v)
    if not isinstance(v, str) or not _PARTIAL_DATE_RE.match(v.strip()):
        raise ValueError(f"a date is YYYY-MM-DD, YYYY-MM or YYYY: {v!r}")
    v = v.strip()
    if len(v) == 10:
        dt.date.fromisoformat(v)  # a real day (raises ValueError otherwise)
    return v


PartialDate = Annotated[str, BeforeValidator(_partial_date)]
"""An ISO 8601 date at the precision the source gives (YYYY, YYYY-MM or YYYY-MM-DD)."""


def earliest(dates: list[str]) -> str | None:
    """The earliest of partial dates, by the first day each can mean (1999 before 1999-05-03)."""
    return min(dates, key=lambda d: (d + "-01-01"[len(d) - 4 :], len(d))) if dates else None


def check_exclude(entry: str) -> str:
    """Validate one `exclude` entry (see docs/matching.md, "Exceptions"):
    ``WORD``, ``re:PATTERN``, either optionally followed by ``;outside=C1,C2``."""
    body, _, limit = entry.partition(";")
    body = body.strip()
    if not body or body == "re:" or len(entry) > EXCLUDE_MAX:
        raise ValueError(f"exclude entry must be a word or re:PATTERN of at most {EXCLUDE_MAX} characters: {entry!r}")
    if body.startswith("re:"):
        try:
            re.compile(body[3:])
        except re.error as exc:
            raise ValueError(f"exclude pattern {body[3:]!r}: {exc}") from None
    if limit:
        key, _, value = limit.partition("=")
        if key.strip() != "outside" or not value.strip():
            raise ValueError(f"exclude limit must be ';outside=CLASSES', got {limit!r}")
        try:
            classes = [int(c) for c in value.split(",")]
        except ValueError:
            raise ValueError(f"exclude limit classes must be Nice class numbers: {value!r}") from None
        if not classes or any(not 1 <= c <= 45 for c in classes):
            raise ValueError(f"Nice classes run from 1 to 45, got {value!r}")
    return entry.strip()


class Registration(BaseModel):
    """One registration certificate of the mark: what a complaint cites."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    number: str = Field(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z-]+$")
    class_: int = Field(alias="class", ge=1, le=45)
    date: PartialDate | None = None
    """注册日期, the date the registration was granted (YYYY-MM-DD, or YYYY-MM / YYYY where the
    source gives no more): an enterprise founded before the mark's first registration may have a
    prior right (prior_use_possible)."""
    applied: PartialDate | None = None
    """申请日期, the filing date: prior use (商标法 Art. 59(3)) is use before the owner applied."""
    valid_until: dt.date | None = None


class Coexist(BaseModel):
    """A company the owner knows lawfully uses the same word (a historical namesake, a settled
    dispute): not flagged, and `--explain` names the reason."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    uscc: str = Field(min_length=18, max_length=18)
    reason: str = Field(min_length=1, max_length=200)

    @field_validator("uscc")
    @classmethod
    def _uscc(cls, v: str) -> str:
        v = v.strip().upper()
        if not USCC_RE.match(v):
            raise ValueError(f"not a unified social credit code (GB 32100): {v!r}")
        return v

    @field_validator("reason")
    @classmethod
    def _one_line(cls, v: str) -> str:
        if any(c in v for c in "\r\n\x00"):
            raise ValueError("reason is one line of text")
        return v


MarkMode = Literal["default", "review", "strict"]
"""How far a mark's screening reaches: `default` keeps the noise target, `review` also shows
the graded evidence (a first or two characters changed, sound-alikes in another field) ranked
low, `strict` only what CNIPA practice calls similar."""


class Mark(BaseModel):
    """A protected mark as the brand owner registered it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=64)
    owner: str = Field(min_length=1)
    well_known: bool = False
    classes: list[int] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    """类似商品和服务区分表 similar-group codes (0501: class 05, group 01): see matcher/fields.py."""
    industries: list[str] = Field(default_factory=list)
    """GB/T 4754-2017 sectors, divisions, groups or classes by code (C27, 2710) or name (医药制造业), or trade words."""
    aliases: list[str] = Field(default_factory=list)
    whitelist: list[str] = Field(default_factory=list)
    """The owner's own companies and shops: full names (a subject starting with one is
    not screened) or USCCs (18 characters, matched against `Subject.uscc`)."""
    exclude: list[str] = Field(default_factory=list)
    """Words that are not this mark (老干部 for 老干妈): see `check_exclude`."""
    ordinary_word: bool | None = None
    """Is the mark also a word many unrelated businesses use (海天 "sea and sky")? Such a
    mark is not flagged outside its field on a bare copy. None: decided from data (jieba's
    frequencies, trade_words.tsv); true or false: the owner's or analyst's word for it,
    e.g. false for an ordinary word recognised as a well-known mark across classes."""
    notify: list[str] = Field(default_factory=list)
    threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    mode: MarkMode | None = None
    """This mark's screening mode; None: the matcher's (see MarkMode)."""
    registered: PartialDate | None = None
    """The mark's first registration date, when no registration below gives one (YYYY-MM-DD, or
    YYYY-MM / YYYY where the source gives no more)."""
    applied: PartialDate | None = None
    """The filing date of the mark's first application, when no registration below gives one."""
    registrations: list[Registration] = Field(default_factory=list)
    coexist: list[Coexist] = Field(default_factory=list)
    well_known_ref: str | None = Field(default=None, min_length=1, max_length=200)

    @field_validator("name", "owner")
    @classmethod
    def _strip(cls, v: str) -> str:
        v = v.strip()
        if not v:
            raise ValueError("must not be blank")
        return v

    @field_validator("classes")
    @classmethod
    def _nice(cls, v: list[int]) -> list[int]:
        bad = [c for c in v if not 1 <= c <= 45]
        if bad:
            raise ValueError(f"Nice classes run from 1 to 45, got {bad}")
        return v

    @field_validator("groups")
    @classmethod
    def _groups(cls, v: list[str]) -> list[str]:
        out = [str(g).strip() for g in v]
        bad = [g for g in out if not (len(g) == 4 and g.isdigit() and 1 <= int(g[:2]) <= 45)]
        if bad:
            raise ValueError(f"similar groups are four digits, the first two a Nice class: {bad}")
        return out

    @property
    def registration_date(self) -> str | None:
        """The earliest date the mark was registered, from `registered` and the registrations
        (ISO, at the precision the marks file gives)."""
        return earliest([d for d in (self.registered, *(r.date for r in self.registrations)) if d is not None])

    @property
    def priority_date(self) -> str | None:
        """The latest date the owner surely had applied by: the earliest filing or registration
        date the marks file gives (a registration was applied for before it was granted). A
        subject founded before it may have used the name first (prior use)."""
        dates = [self.registered, self.applied]
        for r in self.registrations:
            dates += [r.date, r.applied]
        return earliest([d for d in dates if d is not None])

    @field_validator("well_known_ref")
    @classmethod
    def _ref(cls, v: str | None) -> str | None:
        if v is not None and any(c in v for c in "\r\n\x00"):
            raise ValueError("well_known_ref is one line of text")
        return v

    @field_validator("exclude")
    @classmethod
    def _exclude(cls, v: list[str]) -> list[str]:
        return [check_exclude(e) for e in v]

    @field_validator("notify")
    @classmethod
    def _emails(cls, v: list[str]) -> list[str]:
        for addr in v:
            if "@" not in addr or any(c in addr for c in "\r\n <>,;"):
                raise ValueError(f"not an email address: {addr!r}")
        return v


class MarksFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    marks: list[Mark] = Field(min_length=1)
    exclude: list[str] = Field(default_factory=list)
    """Common words that are no mark's imitation: added to every mark's `exclude`."""

    @field_validator("exclude")
    @classmethod
    def _exclude(cls, v: list[str]) -> list[str]:
        return [check_exclude(e) for e in v]

    @model_validator(mode="after")
    def _spread_exclude(self) -> MarksFile:
        if self.exclude:
            self.marks = [m.model_copy(update={"exclude": [*m.exclude, *self.exclude]}) for m in self.marks]
        return self
