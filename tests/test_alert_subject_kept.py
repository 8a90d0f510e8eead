"""What an alert keeps of its subject reads back as the subject the scan screened, so that a rescreen
and "also considered" weigh what the scan weighed (a trademark's classes, an enterprise's credit
code, declared industry and founding date)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from alerts.model import Alert, alert_from_hit
from markwatch.services.considered import subject_of
from matcher import Matcher, Subject
from matcher.marksfile import parse_marks

MARKS = parse_marks(
    """
marks:
  - name: 一正
    owner: 吉林一正药业集团有限公司
    classes: [5]
    registered: 2017-01-01
"""
)


def _kept(subject: Subject) -> Subject:
    hit = Matcher(MARKS, mode="review").screen(subject)[0]
    alert = alert_from_hit(
        hit, subject, source="s", subject_key="k", item={}, evidence_id=None, now=datetime(2026, 12, 8, tzinfo=UTC)
    )
    stored = Alert.model_validate_json(alert.model_dump_json())  # as a store reads it back
    return subject_of(stored)


def test_an_enterprise_reads_back_with_its_credit_code_industry_and_founding_date():
    s = Subject("湖北壹正药业有限公司", uscc="91420100MA4KXXXX0X", industry="C27", founded="2016-03")
    assert _kept(s) == s


def test_a_trademark_application_reads_back_with_its_classes_groups_and_dates():
    s = Subject(
        "壹正", "trademark", classes=(5, 35), groups=("0501",), announced="2026-11-13", applicant="某公司", number="7"
    )
    assert _kept(s) == s


def test_every_subject_field_is_kept():
    """A field added to Subject later must be kept by the alert too, or this fails."""
    full = {f.name for f in dataclasses.fields(Subject)}
    s = Subject(  # no real subject has them all (a seller is a listing's, classes a trademark's): the store keeps each
        "壹正",
        "trademark",
        seller="某店",
        price=9.9,
        category="医药>感冒药",
        uscc="91420100MA4KXXXX0X",
        industry="医药制造业",
        founded="2016",
        announced="2026-11-13",
        classes=(5,),
        groups=("0501",),
        applicant="某公司",
        number="7",
    )
    assert {f for f in full if getattr(s, f) in (None, ())} == set()
    assert _kept(s) == s


def test_a_dossier_shows_the_founding_date_as_read_not_as_unix_milliseconds():
    from types import SimpleNamespace

    from alerts.cases.dossier import _entity_facts

    s = Subject("湖北壹正药业有限公司", founded="2016-03-01")
    hit = Matcher(MARKS, mode="review").screen(s)[0]
    now = datetime(2026, 12, 8, tzinfo=UTC)
    alert = alert_from_hit(
        hit, s, source="s", subject_key="k", item={"established": "1456761600000"}, evidence_id=None, now=now
    )
    case = SimpleNamespace(entity=SimpleNamespace(name=s.text, uscc=None, seller=None, source="s"))
    assert _entity_facts(case, [alert])["established"] == "2016-03-01"
    old = alert.model_copy(update={"subject": alert.subject.model_copy(update={"founded": None})})
    assert _entity_facts(case, [old])["established"] == "1456761600000"  # an alert stored before: as crawled
