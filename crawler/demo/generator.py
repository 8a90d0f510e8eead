"""A seeded, deterministic demo world: registry companies and marketplace listings.

Same (seed, today, sizes, revision) → same world, so tests can assert on it.
Each record keeps `truth` (the mark it imitates, or None) and `how` (the trick
used) so the evaluation can score the pipeline; the server never shows them.
`revision` > 0 edits a small, seeded share of records to exercise incremental scans.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources

import opencc
import yaml

from crawler import uscc
from crawler.demo import vocab as V

ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\ufeff", "\u2060")
_ZW_RE = re.compile("[\u200b\u200c\u200d\ufeff\u2060]")
_TAG_RE = re.compile(r"<[^>]*>")

MARK_NAMES = list(V.MARK_GOODS)
SEED_CASE = "湖北一正药业有限公司"


@dataclass
class Company:
    id: str
    name: str
    uscc: str
    legal_rep: str
    capital: str
    established: str
    status: str
    authority: str
    address: str
    scope: str
    province: str
    truth: str | None = None
    how: str = "clean"
    broken: bool = False  # detail page loses its name block (dropped by validation)
    trade: str = ""
    # Later changes the registry records: (date, new name, new status), in date order. They show
    # only through the lookup by credit code asked "as of" a date (see World.as_of).
    changes: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass
class Listing:
    id: str
    title: str
    price: float
    currency: str
    shop_id: str
    shop_name: str
    category: str
    images: list[str] = field(default_factory=list)
    truth: str | None = None
    how: str = "clean"
    # Delisted later: (date, how) with how one of DELIST_KINDS; shows only when a page is asked
    # "as of" a date on or after it (World.delisted).
    delisted: tuple[str, str] | None = None


# How the demo marketplace says an item is gone, one kind per way real platforms do it.
DELIST_KINDS = ("http_404", "http_410", "marker_missing", "marker_off_shelf", "redirect_search", "api_code")


def demo_marks_path():
    """The demo marks file shipped with markwatch (the world imitates these marks)."""
    return resources.files("markwatch") / "demo" / "marks.yaml"


def _owned_names() -> dict[str, list[str]]:
    data = yaml.safe_load(demo_marks_path().read_text(encoding="utf-8"))
    return {m["name"]: [m["owner"], *m.get("whitelist", [])] for m in data["marks"]}


def searchable(text: str) -> str:
    """What the demo sites' search index sees: no tags, no zero-width characters, no line breaks."""
    return re.sub(r"\s+", "", _ZW_RE.sub("", _TAG_RE.sub("", text)))


class World:
    """Generate companies and listings from a seed; cheap enough (< 1 s) to build at server start."""

    def __init__(
        self,
        seed: int = 7,
        today: dt.date | None = None,
        n_companies: int = 5000,
        n_listings: int = 5000,
        days: int = 60,
        revision: int = 0,
    ) -> None:
        self.seed = seed
        self.today = today or dt.date.today()
        self.days = days
        self.revision = revision
        self._rng = random.Random(seed)
        self._t2 = opencc.OpenCC("s2t")
        self.companies: list[Company] = []
        self.listings: list[Listing] = []
        self.shops: dict[str, str] = {}
        self._gen_companies(n_companies)
        self._gen_listings(n_listings)
        if revision:
            self._revise(revision)
        self._plan_changes()
        self._plan_delistings()
        self.company_by_id = {c.id: c for c in self.companies}
        self.company_by_uscc = {c.uscc: c for c in self.companies}
        self.listing_by_id = {x.id: x for x in self.listings}

    # ---- indexes -------------------------------------------------------
    @cached_property
    def by_date(self) -> dict[str, list[Company]]:
        out: dict[str, list[Company]] = {}
        for c in self.companies:
            out.setdefault(c.established, []).append(c)
        return out

    @cached_property
    def company_index(self) -> list[tuple[str, Company]]:
        return [(searchable(c.name), c) for c in self.companies]

    @cached_property
    def listing_index(self) -> list[tuple[str, Listing]]:
        return [(searchable(x.title), x) for x in self.listings]

    def search_companies(self, q: str) -> list[Company]:
        q = searchable(q)
        return [c for s, c in self.company_index if q in s]

    def search_listings(self, q: str) -> list[Listing]:
        q = searchable(q)
        return [x for s, x in self.listing_index if q in s]

    # ---- variants of a mark -------------------------------------------
    def variant(self, mark: str, how: str) -> str:
        r = self._rng
        chars = list(mark)
        if how == "homophone":
            idx = [i for i, ch in enumerate(chars) if ch in V.HOMOPHONES]
            i = r.choice(idx)
            chars[i] = r.choice(V.HOMOPHONES[chars[i]])
        elif how == "lookalike":
            idx = [i for i, ch in enumerate(chars) if ch in V.LOOKALIKES] or [0]
            i = r.choice(idx)
            chars[i] = r.choice(V.LOOKALIKES.get(chars[i], chars[i]))
        elif how == "traditional":
            return self._t2.convert(mark)
        elif how == "inserted":
            chars.insert(r.randint(1, len(chars) - 1), r.choice(V.INSERTS))
        return "".join(chars)

    # ---- companies -----------------------------------------------------
    def _person(self) -> str:
        r = self._rng
        return r.choice(V.SURNAMES) + "".join(r.choice(V.GIVEN) for _ in range(r.choice((1, 2))))

    def _clean_trade(self) -> str:
        while True:
            t = "".join(self._rng.choice(V.TRADE_CHARS) for _ in range(2))
            if t[0] != t[1] and not any(m in t for m in MARK_NAMES):
                return t

    def _company(
        self,
        n: int,
        trade: str,
        industry: str,
        *,
        city=None,
        days_ago=None,
        style=None,
        name: str | None = None,
        truth=None,
        how="clean",
    ) -> Company:
        r = self._rng
        prov, cityname, code = city or r.choice(V.CITIES)
        form = r.choice(V.FORMS)
        style = style if style is not None else r.random()
        if name is None:
            if style < 0.55:
                name = (
                    f"{prov}{trade}{industry}{form}"
                    if prov not in ("北京", "上海", "天津", "重庆")
                    else f"{prov}市{trade}{industry}{form}"
                )
            elif style < 0.85:
                name = f"{cityname}市{trade}{industry}{form}"
            else:
                name = f"{trade}（{cityname}）{industry}{form}"
        days_ago = r.randrange(self.days) if days_ago is None else days_ago
        capital = r.choice((10, 50, 100, 200, 300, 500, 1000, 2000, 5000))
        return Company(
            id=f"C{n:05d}",
            name=name,
            uscc=uscc.generate(r, code, "92" if form.endswith("部") else "91"),
            legal_rep=self._person(),
            capital=f"{capital}万元人民币",
            established=(self.today - dt.timedelta(days=days_ago)).isoformat(),
            status="存续" if days_ago < 3 else r.choice(V.STATUSES),
            authority=f"{cityname}市市场监督管理局",
            address=f"{prov}省{cityname}市{r.choice(V.DISTRICTS)}区{r.choice(V.ROADS)}路{r.randint(1, 999)}号"
            if prov not in ("北京", "上海", "天津", "重庆")
            else f"{prov}市{r.choice(V.DISTRICTS)}区{r.choice(V.ROADS)}路{r.randint(1, 999)}号",
            scope=V.INDUSTRIES[industry],
            province=prov,
            truth=truth,
            how=how,
            trade=trade,
        )

    def _gen_companies(self, total: int) -> None:
        r = self._rng
        hubei = [c for c in V.CITIES if c[0] == "湖北"]
        # The seed case: a Hubei pharmacy company using 一正 as its trade name, registered today.
        seed_case = self._company(
            0, "一正", "药业", city=hubei[0], days_ago=0, name=SEED_CASE, truth="一正", how="exact_same_industry"
        )
        seed_case.status = "存续"
        self.companies.append(seed_case)
        n = 1
        # Owners' own companies: must never alert.
        owned = _owned_names()
        for mark in MARK_NAMES:
            industry = V.MARK_GOODS[mark][0]
            for name in dict.fromkeys(owned.get(mark, [])):
                self.companies.append(self._company(n, mark, industry, name=name, how="owner"))
                n += 1
        tricks = ["exact_same_industry", "exact_cross_industry", "homophone", "lookalike", "traditional", "inserted"]
        while n < total:
            roll = r.random()
            if roll < 0.06:
                mark = r.choice(MARK_NAMES)
                how = r.choice(tricks)
                industry = V.MARK_GOODS[mark][0]
                if how == "exact_cross_industry":
                    industry = r.choice(V.CROSS_INDUSTRIES)
                trade = mark if how.startswith("exact") else self.variant(mark, how)
                c = self._company(n, trade, industry, truth=mark, how=how)
            else:
                c = self._company(n, self._clean_trade(), r.choice(list(V.INDUSTRIES)))
            if r.random() < 0.004:
                c.broken = True
            if r.random() < 0.01:  # hostile text straight from the registry's own database
                i = r.randint(1, len(c.name) - 1)
                c.name = c.name[:i] + r.choice(ZERO_WIDTH) + c.name[i:]
            self.companies.append(c)
            n += 1

    # ---- listings ------------------------------------------------------
    def _shop(self, name: str) -> str:
        sid = f"S{len(self.shops) + 1:04d}"
        self.shops[sid] = name
        return sid

    def _gen_listings(self, total: int) -> None:
        r = self._rng
        clean_shops = [
            self._shop(f"{self._clean_trade()}{r.choice(['旗舰店', '专营店', '小店', '百货'])}") for _ in range(300)
        ]
        official = {m: self._shop(f"{m}官方旗舰店") for m in MARK_NAMES}
        fake_shops = [
            self._shop(f"{self._clean_trade()}{r.choice(['潮品', '工厂店', '尾货', '优品'])}") for _ in range(60)
        ]
        cats = list(V.CLEAN_PRODUCTS)
        for n in range(1, total + 1):
            roll = r.random()
            truth, how = None, "clean"
            if roll < 0.05:
                mark = r.choice(MARK_NAMES)
                _, cat, products = V.MARK_GOODS[mark]
                cue = r.choice(V.COUNTERFEIT_CUES)
                title = f"{cue} {mark}{r.choice(products)} {r.choice(V.DESCRIPTORS)}"
                price, shop, truth, how = self._cheap(cat), r.choice(fake_shops), mark, "counterfeit_cue"
            elif roll < 0.10:
                mark = r.choice(MARK_NAMES)
                _, cat, products = V.MARK_GOODS[mark]
                how = r.choice(["homophone", "lookalike", "traditional", "inserted"])
                title = f"{self.variant(mark, how)}{r.choice(products)} {r.choice(V.DESCRIPTORS)}"
                price, shop, truth = self._price(cat), r.choice(fake_shops), mark
            elif roll < 0.13:
                mark = r.choice(MARK_NAMES)
                _, cat, products = V.MARK_GOODS[mark]
                title = f"{mark}{r.choice(products)} {r.choice(V.DESCRIPTORS)}"
                price, shop, how = self._price(cat) * 1.5, official[mark], "genuine"
            elif roll < 0.155:
                mark = r.choice(MARK_NAMES)
                _, cat, products = V.MARK_GOODS[mark]
                title = f"适用于{mark}{r.choice(products)}的配件 {r.choice(['兼容款', '替换装', '通用'])}"
                price, shop, how = self._cheap(cat), r.choice(clean_shops), "compatibility"
            else:
                cat = r.choice(cats)
                title = f"{self._clean_trade()}{r.choice(V.CLEAN_PRODUCTS[cat])} {r.choice(V.DESCRIPTORS)}"
                price, shop = self._price(cat), r.choice(clean_shops)
            title = self._hostile(title)
            self.listings.append(
                Listing(
                    id=f"L{n:05d}",
                    title=title,
                    price=round(price, 2),
                    currency="CNY",
                    shop_id=shop,
                    shop_name=self.shops[shop],
                    category=cat,
                    images=[f"/market/img/L{n:05d}-{k}.jpg" for k in range(r.randint(1, 3))],
                    truth=truth,
                    how=how,
                )
            )

    def _price(self, cat: str) -> float:
        return self._rng.uniform(20, 2000 if cat in ("家电", "手机数码", "酒水", "厨房电器") else 300)

    def _cheap(self, cat: str) -> float:
        return self._price(cat) * self._rng.uniform(0.1, 0.35)

    def _hostile(self, title: str) -> str:
        r = self._rng.random()
        if r < 0.02:  # zero-width characters between every character of the brand part
            i = self._rng.randint(1, max(1, min(4, len(title) - 1)))
            return title[:i] + self._rng.choice(ZERO_WIDTH) + title[i:]
        if r < 0.03:
            return f'<script>alert("x")</script>{title}'
        if r < 0.04:
            return f"<b>{title}</b> <img src=x onerror=alert(1)>"
        if r < 0.05:
            return title.replace(" ", "\r\n", 1) + "\r\n"
        return title

    # ---- follow-up: infringers that comply later -----------------------
    # (days after `today`, what happens). The seed case renames 12 days after it was found, inside
    # the 30 days an authority gives; one complies only after 45 days (a deadline passes first).
    CHANGE_PLAN = ((12, "rename"), (15, "rename"), (20, "deregister"), (45, "rename"))

    def _plan_changes(self) -> None:
        """Seeded on its own RNG so the world as of `today` (and every scan count) is unchanged."""
        rr = random.Random(f"{self.seed}-changes")
        seed_case = self.companies[0]
        others = [c for c in self.companies[1:] if c.truth and c.how.startswith("exact") and not c.broken]
        picked = [seed_case, *rr.sample(others, min(len(others), len(self.CHANGE_PLAN) - 1))]
        for c, (days, what) in zip(picked, self.CHANGE_PLAN, strict=False):
            when = (self.today + dt.timedelta(days=days)).isoformat()
            if what == "rename":
                new_trade = "正元" if c is seed_case else self._clean_trade_with(rr)
                c.changes.append((when, c.name.replace(c.trade, new_trade, 1), c.status))
            else:
                c.changes.append((when, c.name, "注销"))

    # Counterfeit listings taken down later, one of each kind, 10 days after `today`; the first
    # counterfeit shop with several listings loses them all (a shop case resolves as a whole).
    DELIST_AFTER = 10

    def _plan_delistings(self) -> None:
        """Seeded on its own RNG, like the changes: the world as of `today` is unchanged."""
        rr = random.Random(f"{self.seed}-delist")
        fakes = [x for x in self.listings if x.truth and x.how == "counterfeit_cue"]
        if not fakes:
            return
        when = (self.today + dt.timedelta(days=self.DELIST_AFTER)).isoformat()
        by_shop: dict[str, list[Listing]] = {}
        for x in fakes:
            by_shop.setdefault(x.shop_id, []).append(x)
        shop = max(sorted(by_shop), key=lambda k: len(by_shop[k]))
        for i, x in enumerate(by_shop[shop]):
            x.delisted = (when, DELIST_KINDS[i % len(DELIST_KINDS)])
        rest = [x for x in fakes if x.shop_id != shop]
        for i, x in enumerate(rr.sample(rest, min(len(rest), len(DELIST_KINDS)))):
            x.delisted = (when, DELIST_KINDS[i])

    def delisted(self, x: Listing, date: str | None) -> str | None:
        """How ``x`` is gone on ``date`` (ISO), or None while it is still listed."""
        if x.delisted is None or date is None or date < x.delisted[0]:
            return None
        return x.delisted[1]

    @staticmethod
    def _clean_trade_with(rr: random.Random) -> str:
        while True:
            t = "".join(rr.choice(V.TRADE_CHARS) for _ in range(2))
            if t[0] != t[1] and not any(m in t for m in MARK_NAMES):
                return t

    def as_of(self, c: Company, date: str) -> tuple[str, str, list[str]]:
        """(name, status, former names) of ``c`` on ``date`` (ISO)."""
        name, status, former = c.name, c.status, []
        for when, new_name, new_status in c.changes:
            if when <= date:
                if new_name != name:
                    former.append(name)
                name, status = new_name, new_status
        return name, status, former

    # ---- revisions -----------------------------------------------------
    def _revise(self, revision: int) -> None:
        """Change a seeded ~2% of listings (price) and ~1% of companies (status)."""
        rr = random.Random(f"{self.seed}-rev-{revision}")
        for x in rr.sample(self.listings, max(1, len(self.listings) // 50)):
            x.price = round(x.price * 0.8 + revision, 2)
        for c in rr.sample(self.companies, max(1, len(self.companies) // 100)):
            c.status = "注销" if c.status != "注销" else "存续"
