"""The protected-marks contract: one validated record per registered mark."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Registration(BaseModel):
    """One registration certificate of the mark: what a complaint cites."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    number: str = Field(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z-]+$")
    class_: int = Field(alias="class", ge=1, le=45)
    valid_until: dt.date | None = None


class Mark(BaseModel):
    """A protected mark as the brand owner registered it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=64)
    owner: str = Field(min_length=1)
    well_known: bool = False
    classes: list[int] = Field(default_factory=list)
    industries: list[str] = Field(default_factory=list)
    aliases: list[str] = Field(default_factory=list)
    whitelist: list[str] = Field(default_factory=list)
    notify: list[str] = Field(default_factory=list)
    threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    registrations: list[Registration] = Field(default_factory=list)
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

    @field_validator("well_known_ref")
    @classmethod
    def _ref(cls, v: str | None) -> str | None:
        if v is not None and any(c in v for c in "\r\n\x00"):
            raise ValueError("well_known_ref is one line of text")
        return v

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
