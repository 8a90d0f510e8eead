"""An item's change fingerprint covers the listing, not where its site is served from.

The same demo marketplace served on another port must not mark its listings (or their alerts)
updated; a real change of price, title, seller or a same-site link's path must.
"""

from __future__ import annotations

import sqlite3

from crawler_fixtures import feed_arg, read_feed, run_crawl, start_server

from crawler.fingerprints import content_of, fingerprint
from crawler.items import Listing


def _listing(base: str, **kw) -> Listing:
    item = Listing(
        title="耐克 运动鞋",
        price=199.0,
        currency="CNY",
        seller="小王鞋店",
        seller_url=f"{base}/market/shop/s-17?tab=all",
        category="鞋",
        images=[f"{base}/market/img/1.jpg", "https://cdn.example.com/a/2.jpg"],
        url=f"{base}/market/item/L-1",
    )
    item["response"] = {"url": f"{base}/market/item/L-1"}
    for k, v in kw.items():
        item[k] = v
    return item


def _fp(item: Listing) -> str:
    return fingerprint(content_of(item, Listing.CONTENT_FIELDS))


def test_host_and_port_of_the_own_site_do_not_count():
    a = _listing("http://127.0.0.1:8700")
    assert _fp(a) == _fp(_listing("http://127.0.0.1:41234")) == _fp(_listing("https://mirror.example.org"))
    assert content_of(a, Listing.CONTENT_FIELDS)["seller_url"] == "/market/shop/s-17?tab=all"
    # A link to another host (a CDN) is kept whole.
    assert content_of(a, Listing.CONTENT_FIELDS)["images"] == ["/market/img/1.jpg", "https://cdn.example.com/a/2.jpg"]


def test_real_changes_still_change_the_fingerprint():
    base = "http://127.0.0.1:8700"
    fp = _fp(_listing(base))
    changed = [
        _listing(base, price=99.0),
        _listing(base, title="耐克 运动鞋 新款"),
        _listing(base, seller="小李鞋店"),
        _listing(base, seller_url=f"{base}/market/shop/s-18?tab=all"),
        _listing(base, seller_url=f"{base}/market/shop/s-17?tab=new"),
        _listing(base, images=[f"{base}/market/img/9.jpg", "https://cdn.example.com/a/2.jpg"]),
        _listing(base, images=[f"{base}/market/img/1.jpg", "https://cdn2.example.com/a/2.jpg"]),
        # The same path on a host that is not the item's own is another link.
        _listing(base, seller_url="http://evil.example/market/shop/s-17?tab=all"),
    ]
    assert len({fp, *(_fp(c) for c in changed)}) == len(changed) + 1


def _seen(db) -> dict[str, str]:
    con = sqlite3.connect(db)
    try:
        return dict(con.execute("SELECT identity, fingerprint FROM seen"))
    finally:
        con.close()


def test_the_demo_on_another_port_is_unchanged_and_old_fingerprints_migrate(tmp_path):
    size = dict(fail_every=0, slow_every=0, companies=200, listings=300)
    args: tuple[str, ...] = ()  # every mark's search terms
    srv = start_server(**size)
    try:
        first = run_crawl(["demo-market"], srv.url, tmp_path, *args)["demo-market"]
    finally:
        srv.stop()
    assert first["new_items"] > 20 and first["alerts_new"] > 0
    db = tmp_path / "fp.sqlite"
    good = _seen(db)
    srv2 = start_server(**size)  # the same world on another port
    try:
        assert srv2.url != srv.url
        feed = tmp_path / "items.jsonl"
        second = run_crawl(["demo-market"], srv2.url, tmp_path, *args, "--set", feed_arg(feed))["demo-market"]
        assert second["items"] == first["items"]
        assert (second["new_items"], second["updated_items"], second["unchanged_items"]) == (0, 0, first["items"])
        assert (second["alerts_new"], second["alerts_updated"]) == (0, 0)
        assert _seen(db) == good

        # Fingerprints recorded the old way (absolute links) count as unchanged once, and are rewritten.
        items = read_feed(feed)
        assert any(str(i.get("seller_url", "")).startswith(srv2.url) for i in items)
        legacy = {i["identity"]: fingerprint({k: i.get(k) for k in Listing.CONTENT_FIELDS}) for i in items}
        assert set(legacy) == set(good) and not set(legacy.values()) & set(good.values())
        con = sqlite3.connect(db)
        con.executemany("UPDATE seen SET fingerprint = ? WHERE identity = ?", [(v, k) for k, v in legacy.items()])
        con.commit()
        con.close()
        third = run_crawl(["demo-market"], srv2.url, tmp_path, *args)["demo-market"]
    finally:
        srv2.stop()
    assert (third["updated_items"], third["unchanged_items"], third["alerts_updated"]) == (0, first["items"], 0)
    assert _seen(db) == good


def test_a_field_added_later_leaves_the_fingerprints_of_items_without_it_alone():
    """Registration gained `industry`: an item without it keeps the fingerprint it had before (no
    wave of "updated" items after an upgrade); one with it is fingerprinted with it."""
    from crawler.items import Registration

    before = ("name", "uscc", "legal_rep", "capital", "established", "status", "authority", "address", "scope")
    item = Registration(name="湖北壹正药业有限公司", uscc="91420100MA4KXXXX0X", established="2018-05-16")
    assert fingerprint(content_of(item, Registration.CONTENT_FIELDS)) == fingerprint(content_of(item, before))
    item["industry"] = "医药制造业"
    assert fingerprint(content_of(item, Registration.CONTENT_FIELDS)) != fingerprint(content_of(item, before))
