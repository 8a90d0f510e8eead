"""Value types shared by the matcher and everything downstream of it.

They are plain frozen dataclasses so that hits can cross process boundaries
(Scrapy pipelines, the alerts store, JSON output) without the matcher knowing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

SubjectKind = Literal["enterprise", "listing", "shop", "brand", "trademark"]
"""enterprise: a registered enterprise name; listing: a marketplace offer title; shop: a store, restaurant,
shop-sign or marketplace shop name; brand: a brand or product name as printed on goods; trademark: a
trademark application or registration (text, classes, similar groups, applicant)."""


@dataclass(frozen=True, slots=True)
class Subject:
    """Something to screen: an enterprise name, or a marketplace listing."""

    text: str
    kind: SubjectKind = "enterprise"
    seller: str | None = None
    price: float | None = None
    category: str | None = None
    uscc: str | None = None
    """统一社会信用代码 of an enterprise, when the source gives it: a whitelisted
    USCC is the owner's own company whatever name it trades under."""
    industry: str | None = None
    """The subject's industry as enterprise-data APIs give it: a GB/T 4754-2017 code (``C27``, ``2710``)
    or name (``医药制造业``)."""
    classes: tuple[int, ...] = ()
    """Nice classes a trademark application covers (kind ``trademark``)."""
    groups: tuple[str, ...] = ()
    """类似商品和服务区分表 similar-group codes (``0501``) a trademark application covers."""
    founded: str | None = None
    """ISO date the enterprise was founded (成立日期), when the source gives it (or its year or month
    alone: 2004, 2004-03): prior-use evidence."""
    announced: str | None = None
    """ISO date of a trademark application's preliminary-approval announcement (初步审定公告)."""
    applicant: str | None = None
    """A trademark application's applicant (kind ``trademark``)."""
    number: str | None = None
    """A trademark application or registration number (kind ``trademark``)."""


@dataclass(frozen=True, slots=True)
class Reason:
    """One piece of evidence, as a short code and a sentence in Chinese and English."""

    code: str
    zh: str
    en: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "zh": self.zh, "en": self.en}


@dataclass(frozen=True, slots=True)
class NameParts:
    """An enterprise name split per 企业名称登记管理规定 Art. 6."""

    region: str = ""
    trade_name: str = ""
    industry: str = ""
    form: str = ""
    branch: str = ""
    bracket_region: str = ""

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Hit:
    """A subject judged to imitate one protected mark."""

    mark: str
    owner: str
    score: float
    span: tuple[int, int]
    matched: str
    reasons: tuple[Reason, ...] = ()
    parts: NameParts | None = None
    well_known: bool = False
    probability: float | None = None
    """Calibrated: the share of labelled hits scored like this that were right
    (matcher/data/calibration.tsv). Sort queues by it; `score` stays the similarity."""

    @property
    def codes(self) -> list[str]:
        return [r.code for r in self.reasons]

    def to_dict(self) -> dict:
        return {
            "mark": self.mark,
            "owner": self.owner,
            "score": round(self.score, 4),
            "span": list(self.span),
            "matched": self.matched,
            "well_known": self.well_known,
            "probability": None if self.probability is None else round(self.probability, 4),
            "reasons": [r.to_dict() for r in self.reasons],
            "parts": self.parts.to_dict() if self.parts else None,
        }


@dataclass(frozen=True, slots=True)
class Screened:
    """The outcome of screening one subject: all hits, best first."""

    subject: Subject
    hits: tuple[Hit, ...] = field(default_factory=tuple)

    @property
    def best(self) -> Hit | None:
        return self.hits[0] if self.hits else None
