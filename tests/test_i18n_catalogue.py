"""The message catalogues are complete: every string the templates and the marked Python code show
has a Chinese translation with the same placeholders, and the catalogue has no entry nobody uses.

Extraction is Babel's, with the project's babel.cfg (what `make i18n` runs), so a template string
added without `make i18n` and a translation fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from alerts.i18n import LOCALE_DIR, Localizer, translations

REPO = Path(__file__).resolve().parents[1]
KEYWORDS = {
    "_": None,
    "N_": None,
    "_n": None,
    "tr": (2,),
    "gettext": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
}
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def extracted() -> dict[str, list[str]]:
    """msgid → where it is used, from the sources babel.cfg names."""
    with open(REPO / "babel.cfg", encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    out: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(REPO), method_map, options_map, keywords=KEYWORDS
    ):
        if filename.startswith(("tests", ".venv", "build")):
            continue
        msgid = message if isinstance(message, str) else message[0]
        out.setdefault(msgid, []).append(f"{filename}:{lineno}")
    return out


def untranslated(messages: dict[str, list[str]], locale: str) -> list[str]:
    catalog = read_po(open(LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po", "rb"), locale=locale)
    problems = []
    for msgid, where in sorted(messages.items()):
        entry = catalog.get(msgid)
        string = entry.string if entry is not None else ""
        if isinstance(string, tuple):
            string = string[0]
        if entry is None or not string or entry.fuzzy:
            problems.append(f"{msgid!r} ({where[0]}): no {locale} translation")
        elif set(PLACEHOLDER.findall(msgid)) != set(PLACEHOLDER.findall(string)):
            problems.append(f"{msgid!r}: the {locale} translation {string!r} has other placeholders")
    return problems


def test_every_shown_string_has_a_chinese_translation():
    messages = extracted()
    templates = {m for m, where in messages.items() if any(".html:" in w for w in where)}
    assert len(templates) > 150  # the site's templates are on the catalogue
    assert untranslated(messages, "zh_CN") == []


def test_the_check_fails_for_a_string_without_translation():
    made_up = {"A button nobody translated": ["markwatch/web/templates/x.html:1"]}
    assert untranslated(made_up, "zh_CN") == [
        "'A button nobody translated' (markwatch/web/templates/x.html:1): no zh_CN translation"
    ]


def test_no_stale_entries_and_english_falls_back_to_the_source():
    messages = extracted()
    catalog = read_po(open(LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po", "rb"), locale="zh_CN")
    stale = sorted(m.id for m in catalog if m.id and (m.id if isinstance(m.id, str) else m.id[0]) not in messages)
    assert stale == []
    assert Localizer("en")._("Registering authority") == "Registering authority"
    assert Localizer("zh-CN")._("Registering authority") == "登记机关"
    assert translations("zh_CN").gettext("%(n)s alerts") % {"n": 3} == "3 条预警"
