"""One alert per (mark, entity): the entity rule, sightings and the merge rules (no store needed)."""

from __future__ import annotations

import random
from datetime import timedelta

from conftest import T0

from alerts.model import (
    alert_id,
    entity_key,
    entity_of,
    merge_alerts,
    merge_seen,
    normalise_name,
    reviewed,
    sightings_of,
    valid_uscc,
)
from crawler.uscc import generate

CODE = generate(random.Random(7), "310000")


def test_uscc_check_agrees_with_the_crawler():
    rng = random.Random(1)
    for _ in range(200):
        code = generate(rng, "440300")
        assert valid_uscc(code)
        bad = code[:17] + ("0" if code[17] != "0" else "1")
        assert not valid_uscc(bad)
    assert not valid_uscc("") and not valid_uscc(None) and not valid_uscc("I" * 18)


def test_entity_of_an_enterprise_is_its_valid_code_else_its_name_and_region():
    assert entity_key("enterprise", "gsxt", f"uscc:{CODE}", "厦门市九陽小家电股份有限公司") == f"uscc:{CODE}"
    # The code in the item counts too (a source whose identity is the name but which shows the code).
    assert entity_key("enterprise", "qcc", "name:x", "x", item={"uscc": CODE.lower()}) == f"uscc:{CODE}"
    # A code with a wrong check digit must not merge two companies: the name decides.
    wrong = CODE[:17] + ("0" if CODE[17] != "0" else "1")
    assert (
        entity_key("enterprise", "gsxt", f"uscc:{wrong}", "上海九阳电器有限公司", "上海")
        == "name:上海九阳电器有限公司|上海"
    )
    # Full-width brackets, spaces and zero-width characters do not make another entity.
    a = entity_key("enterprise", "a", "k1", "九阳（上海）电器 有限公司", "上海")
    b = entity_key("enterprise", "b", "k2", "九阳(上海)\u200b电器有限公司", "上海")
    assert a == b
    assert normalise_name("ＡＢＣ\u202e 公司") == "abc公司"
    # Listings are their source's items: the same title on two marketplaces is two listings.
    assert entity_key("listing", "taobao", "url:u1", "九阳豆浆机") != entity_key(
        "listing", "jd", "url:u1", "九阳豆浆机"
    )


def test_two_sources_give_one_alert_with_two_sightings(make_alert):
    a = make_alert("厦门市九陽小家电股份有限公司", source="gsxt", key=f"uscc:{CODE}", score=0.8)
    b = make_alert(
        "厦门市九陽小家电股份有限公司", source="qcc", key=f"uscc:{CODE}", score=0.9, now=T0 + timedelta(hours=1)
    )
    assert a.id == b.id == alert_id(f"uscc:{CODE}", "九阳")
    merged = merge_seen(a, b)
    assert merged is not None
    assert [s.source for s in merged.sightings] == ["gsxt", "qcc"]
    assert merged.sources == ["gsxt", "qcc"]
    assert merged.score == 0.9 and merged.source == "qcc"  # the best seen
    assert merged.times_seen == 2 and merged.first_seen == T0
    # Replaying either sighting changes nothing (idempotent upserts).
    assert merge_seen(merged, a) is None and merge_seen(merged, b) is None
    # A worse later sighting keeps the best score but refreshes its own sighting.
    c = make_alert(
        "厦门市九陽小家电股份有限公司", source="gsxt", key=f"uscc:{CODE}", score=0.5, now=T0 + timedelta(days=1)
    )
    again = merge_seen(merged, c)
    assert again is not None and again.score == 0.9 and again.last_seen == T0 + timedelta(days=1)
    gsxt = next(s for s in again.sightings if s.source == "gsxt")
    assert gsxt.times_seen == 2 and gsxt.last_seen == T0 + timedelta(days=1) and gsxt.score == 0.8


def test_a_decision_sticks_whatever_source_shows_the_entity_next(make_alert):
    a = make_alert("上海九阳电器有限公司", source="gsxt")
    dismissed = reviewed(a, "dismissed", "not them", "li", T0 + timedelta(minutes=5))
    b = make_alert("上海九阳电器有限公司", source="qcc", score=0.99, now=T0 + timedelta(days=1))
    merged = merge_seen(dismissed, b)
    assert merged is not None and merged.status == "dismissed" and len(merged.history) == 1


def _legacy(alert, source):
    """The alert as stored before entities: per-source id, no entity, no sightings."""
    import hashlib

    legacy_id = hashlib.sha256(f"{source}\x1f{alert.subject_key}\x1f{alert.mark}".encode()).hexdigest()[:32]
    return alert.model_copy(update={"id": legacy_id, "entity": "", "sightings": []})


def test_merging_stored_duplicates_keeps_every_review_event(make_alert):
    a = _legacy(make_alert("上海九阳电器有限公司", source="gsxt", score=0.7), "gsxt")
    b = _legacy(make_alert("上海九阳电器有限公司", source="qcc", score=0.9, now=T0 + timedelta(hours=2)), "qcc")
    assert a.id != b.id and entity_of(a) == entity_of(b)
    a = reviewed(a, "confirmed", "real copy", "li", T0 + timedelta(hours=1))
    b = reviewed(b, "dismissed", "not them", "wang", T0 + timedelta(hours=3))
    a = a.model_copy(update={"notified_at": T0 + timedelta(hours=4)})
    assert [s.source for s in sightings_of(a)] == ["gsxt"]
    new_id = alert_id(entity_of(a), "九阳")
    m = merge_alerts([a, b], id=new_id, entity=entity_of(a))
    assert m.id == new_id and m.status == "dismissed"  # the latest decision
    assert [(h.who, h.to_status) for h in m.history] == [("li", "confirmed"), ("wang", "dismissed")]
    assert [n.text for n in m.notes] == ["real copy", "not them"]
    assert m.score == 0.9 and m.sources == ["gsxt", "qcc"] and m.times_seen == 2
    assert m.notified_at == T0 + timedelta(hours=4) and m.first_seen == T0
    # Merging the result again (a second migration run) changes nothing.
    assert merge_alerts([m], id=new_id, entity=m.entity) == m


def test_an_outbox_entry_from_before_entities_comes_out_under_its_entity_id(tmp_path, make_alert):
    from alerts.outbox import Outbox

    fresh = make_alert("上海九阳电器有限公司", source="gsxt")
    old = _legacy(fresh, "gsxt")
    assert old.id != fresh.id
    box = Outbox(tmp_path / "outbox.sqlite")
    box.put([old, fresh])
    [(_, a), (_, b)] = box.peek(10)
    box.close()
    assert a.id == b.id == fresh.id and a.entity == fresh.entity and a.sightings == fresh.sightings
