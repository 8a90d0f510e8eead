"""Every reason the matcher writes is true as written (issue 21, item 8).

Screens the labelled sets (tests/data/*.jsonl) with the demo marks, the demo world's names
(markwatch/demo/names.txt), the demo world's companies, listings and shops (crawler/demo) and, when present, the real-case corpus, in the default and the
`review` mode, parses each reason sentence back and checks its claim against the data it
rests on: a printed reading must be one pypinyin's dictionary gives that character, 读音相同
only where the printed readings are the same, tone included, 声调不同 only where just the tone
differs; a look-alike pair must be in the shape tables; an insertion must leave the mark (or
the look-alike the sentence names) once the inserted character is taken out; an exact copy
must be in the folded text.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from collections import Counter
from functools import cache
from pathlib import Path

import pytest
from pypinyin.pinyin_dict import pinyin_dict

from crawler.demo.generator import World
from matcher import Mark, Matcher, Subject
from matcher.marksfile import load_marks
from matcher.normalize import fold
from matcher.resources import lookalikes, loose_lookalikes

ROOT = Path(__file__).resolve().parents[1]
MARKS = ROOT / "markwatch/demo/marks.yaml"
SETS = sorted((ROOT / "tests/data").glob("*.jsonl"))
CORPUS = ROOT / "tests/data/real_cases/cases.jsonl"


def _subjects() -> list[Subject]:
    out = []
    for path in [*SETS, *([CORPUS] if CORPUS.exists() else [])]:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            c = json.loads(line)
            kind = c.get("kind", "enterprise")
            if kind not in ("enterprise", "listing", "shop", "brand", "trademark"):
                continue
            out.append(Subject(c["text"], kind, seller=c.get("seller"), category=c.get("category_hint")))
    names = (ROOT / "markwatch/demo/names.txt").read_text(encoding="utf-8").splitlines()
    out += [Subject(t) for t in names if t.strip()]
    # the demo world `make demo` serves: its registry's companies, its listings and shops
    world = World(seed=7, today=dt.date(2026, 12, 1))
    out += [Subject(c.name, uscc=c.uscc, founded=c.established or None) for c in world.companies]
    out += [Subject(x.title, "listing", seller=x.shop_name, category=x.category) for x in world.listings]
    out += [Subject(name, "shop") for name in sorted({x.shop_name for x in world.listings})]
    return out


def _toned(c: str) -> set[str]:
    raw = pinyin_dict.get(ord(c))
    return {r.strip() for r in raw.split(",")} if raw else set()


def _bare(s: str) -> str:
    d = unicodedata.normalize("NFD", s).replace("u\u0308", "v")
    return "".join(ch for ch in d if not unicodedata.combining(ch))


_FUZZY = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"))
_FUZZY_FINALS = (("iang", "ian"), ("uang", "uan"), ("ang", "an"), ("eng", "en"), ("ing", "in"))


def _fuzzy(s: str) -> str:
    for a, b in _FUZZY:
        if s.startswith(a):
            s = b + s[len(a) :]
            break
    for a, b in _FUZZY_FINALS:
        if s.endswith(a):
            s = s[: -len(a)] + b
            break
    return s


def _claim_of(pairs: list[tuple[str, str]]) -> str:
    """What a set of (text reading, mark reading) pairs allows one to say."""
    if all(a == b for a, b in pairs):
        return "读音相同"
    if all(_bare(a) == _bare(b) for a, b in pairs):
        return "声母韵母相同、声调不同"
    assert all(_fuzzy(_bare(a)) == _fuzzy(_bare(b)) for a, b in pairs), pairs
    return "读音相近"


WHOLE = re.compile(
    r"^(?P<w>\S+)（(?P<wpy>[^）]*)）与“(?P<m>[^”]+)”（(?P<mpy>[^）]*)）(?P<claim>读音相同|声母韵母相同、声调不同|读音相近)"
)
PAIR = re.compile(
    r"(?P<b>.)（(?P<rb>[^）]+)）与(?P<a>.)（(?P<ra>[^）]+)）(?P<claim>读音相同|声母韵母相同、声调不同|读音相近)"
)


def check_sound(zh: str) -> None:
    m = WHOLE.match(zh)
    if m:
        w, mark = m["w"], fold(m["m"])
        wpy, mpy = m["wpy"].split(" "), m["mpy"].split(" ")
        assert len(wpy) == len(w) == len(mpy) == len(mark), zh
        for c, r in [*zip(w, wpy, strict=True), *zip(mark, mpy, strict=True)]:
            assert r in _toned(c), f"{c} is not read {r}: {zh}"
        pairs = [(a, b) for c, d, a, b in zip(w, mark, wpy, mpy, strict=True) if c != d or a != b]
        for (c, d), (a, b) in zip(zip(w, mark, strict=True), zip(wpy, mpy, strict=True), strict=True):
            if c == d:
                assert a == b, f"{c} printed with two readings: {zh}"
        assert m["claim"] == _claim_of(pairs or [("x", "x")]), zh
        return
    found = list(PAIR.finditer(zh))
    assert found, f"a sound reason neither form parses: {zh}"
    for p in found:
        assert p["rb"] in _toned(p["b"]) and p["ra"] in _toned(p["a"]), zh
        assert p["claim"] == _claim_of([(p["rb"], p["ra"])]), zh


def _alike(a: str, b: str) -> bool:
    return b in lookalikes().get(a, {}) or a in lookalikes().get(b, {}) or b in loose_lookalikes().get(a, {})


_DIGITS = "零一二三四五六七八九"
_FORM = re.compile(r"^“([^”]+)”是“([^”]+)”")
_CHANGED = re.compile(r"^“([^”]+)”把“([^”]+)”中的数字“(.)”换成了相邻的“(.)”$")
_ORDER = "一二三四五六七八九十"


def target_of(hit, marks: dict[str, Mark]) -> str:
    """The form of the mark the hit's other reasons compare the text with: the mark, or the alias
    or numeral form its first reason names (checked here against the marks file)."""
    first = hit.reasons[0] if hit.reasons else None
    if first is not None and first.code == "numeral_changed":
        m = _CHANGED.match(first.zh)
        assert m and m[2] == hit.mark, first.zh
        form, was, now = fold(m[1]), m[3], m[4]
        written = fold("".join(_DIGITS[int(c)] if c.isascii() and c.isdigit() else c for c in m[2]))
        diff = [(x, y) for x, y in zip(written, form, strict=True) if x != y]
        assert diff == [(was, now)], first.zh
        assert abs(_ORDER.index(was) - _ORDER.index(now)) == 1, first.zh
        return form
    if first is None or first.code not in ("chinese_alias", "numeral_form"):
        return fold(hit.mark)
    m = _FORM.match(first.zh)
    assert m and m[2] == hit.mark, first.zh
    mark = marks[hit.mark]
    if first.code == "chinese_alias":
        assert m[1] in mark.aliases, first.zh
    else:
        written = {"".join(_DIGITS[int(c)] if c.isascii() and c.isdigit() else c for c in n) for n in mark.aliases}
        written.add("".join(_DIGITS[int(c)] if c.isascii() and c.isdigit() else c for c in mark.name))
        assert m[1] in written, first.zh
    return fold(m[1])


def _as_written(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", fold(text))


def _latin_forms(name: str, marks: dict[str, Mark] | None) -> set[str]:
    """The mark's Latin forms as letters and digits: its aliases, its name when Latin, and every
    toneless pinyin reading of its name (polyphones included, from pypinyin's dictionary)."""
    import itertools

    from pypinyin import Style, pinyin

    def letters(s: str) -> str:
        return re.sub(r"[^a-z0-9]", "", fold(s).replace("1", "l").replace("i", "l").replace("0", "o"))

    mark = marks.get(name) if marks else None
    out = {letters(a) for a in (mark.aliases if mark else [])} | {letters(name)}
    readings = pinyin(fold(name), style=Style.NORMAL, heteronym=True, errors="ignore")
    if readings and len(readings) <= 6:
        out |= {letters("".join(p)) for p in itertools.product(*readings)}
    return out


def check(reason: dict, subject: Subject, hit, mark: str | None = None, marks: dict[str, Mark] | None = None) -> None:
    code, zh = reason["code"], reason["zh"]
    folded = fold(subject.text)
    mark = mark if mark is not None else fold(hit.mark)
    if code in ("homophone", "near_sound"):
        check_sound(zh)
    elif code == "shape":
        pairs = re.search(r"（([^）]+)）$", zh)
        assert pairs, zh
        for pair in pairs[1].split("、"):
            b, a = pair.split("/")
            assert _alike(a, b), f"{b}/{a} is in no shape table: {zh}"
    elif code == "insertion":
        m = re.match(r"^(\S+) 在“([^”]+)”(?:的近似写法 (\S+) )?中插入了“(.)”", zh)
        assert m, zh
        window, target, ins = m[1], fold(m[3] or m[2]), m[4]
        assert any(window[:k] + window[k + 1 :] == target for k in range(len(window)) if window[k] == ins), zh
        assert m[3] is not None or fold(m[2]) == target
    elif code == "exact":
        assert mark in folded, zh
    elif code == "one_char_swap":
        m = re.search(r"（(.)/(.)）$", zh)
        assert m and m[1] != m[2] and m[2] in mark, zh
    elif code == "first_char_changed":
        m = re.search(r"（(.)/(.)）", zh)
        assert m and m[1] != m[2] and mark.startswith(m[2]), zh
    elif code == "trade_name":
        assert hit.parts is not None and hit.parts.trade_name in zh, zh
    elif code == "latin_run_on":
        form = re.match(r"^(.+) 是“", zh)
        letters = re.sub(r"[^a-z0-9]", "", fold(form[1])) if form else ""
        assert letters and letters in re.sub(r"[^a-z0-9]", "", folded), zh
        assert re.sub(r"[^a-z0-9]", "", folded) != letters, zh  # run on: more letters than the form
    elif code == "letter_shape":
        from matcher.candidates import latin_compact
        from matcher.latin_fuzzy import shape_swaps
        from matcher.resources import latin_lookalikes

        m = re.match(r"^(.+?) 与“[^”]+”的外文形式 (.+) 字母形近（([^）]+)）$", zh)
        assert m, zh
        window, form = latin_compact(fold(m[1])), latin_compact(fold(m[2]))
        shown = [tuple(p.split("/")) for p in m[3].split("、")]
        assert all(p in latin_lookalikes() for p in shown), zh
        assert shape_swaps(window, form) == shown, zh
    elif code == "pinyin_initials":
        from matcher.initials import readings

        m = re.match(r"^(\S+) 是“([^”]+)”拼音（([^）]+)）的首字母$", zh)
        assert m, zh
        token, chars, said = fold(m[1]), fold(m[2]), m[3].split(" ")
        assert token in folded and len(token) == len(chars) == len(said), zh
        assert all(r in readings(c) and r[0] == t for c, r, t in zip(chars, said, token, strict=True)), zh
    elif code in ("misspelt", "short_edit"):
        from rapidfuzz.distance import OSA

        from matcher.candidates import latin_compact

        m = re.match(r"^(.+?) 与“[^”]+”的外文或拼音形式 (.+?) 只差一个字母(（把 i、1 读作 l，0 读作 o）)?", zh)
        assert m, zh
        if m[3]:  # one edit once i/1 read as l and 0 as o: the skeleton
            window, form = latin_compact(fold(m[1])), latin_compact(fold(m[2]))
        else:  # one edit as written
            window, form = _as_written(m[1]), _as_written(m[2])
        assert OSA.distance(window, form) == 1, zh
        assert latin_compact(fold(m[2])) in _latin_forms(hit.mark, marks), zh
    elif code == "transposed":
        from matcher.candidates import latin_compact

        m = re.match(
            r"^(.+?) 是“[^”]+”的外文或拼音形式 (.+) 中相邻两个字母对调（([a-z0-9]{2})→([a-z0-9]{2})）"
            r"(（把 i、1 读作 l，0 读作 o）)?$",
            zh,
        )
        assert m, zh
        read = latin_compact if m[5] else _as_written
        window, form, was, now = read(fold(m[1])), read(fold(m[2])), m[3], m[4]
        assert now == was[::-1] and was[0] != was[1], zh
        assert any(form[:k] + now + form[k + 2 :] == window for k in range(len(form) - 1) if form[k : k + 2] == was), zh
        assert latin_compact(fold(m[2])) in _latin_forms(hit.mark, marks), zh
    elif code == "own_pinyin_other_field":
        from pypinyin import lazy_pinyin

        letters = re.sub(r"[^a-z]", "", fold(subject.text))
        assert mark in folded and "".join(lazy_pinyin(mark)) in letters, zh
    elif code == "variant_word":
        from matcher.words import reads_as_other_word

        m = re.match(r"^(\S+) 本身是常用词语或名称", zh)
        assert m, zh
        window = fold(m[1])
        assert window != mark, zh
        assert reads_as_other_word(window, mark) or _segmenter().dictionary_freq(window) >= 100, zh
    elif code == "truncated":
        m = re.match(r"^(\S+) 是“([^”]+)”的前 (\d+) 个字（截去其余）", zh)
        assert m, zh
        shown, full = fold(m[1]), fold(m[2])
        assert len(shown) == int(m[3]) < len(full) and full.startswith(shown) and shown in folded, zh
    elif code == "char_deleted":
        m = re.match(r"^(\S+) 是“([^”]+)”省去“(.)”字", zh)
        assert m, zh
        shown, full = fold(m[1]), fold(m[2])
        assert shown in folded, zh
        assert any(full[k] == m[3] and full[:k] + full[k + 1 :] == shown for k in range(len(full))), zh
    elif code in ("traditional", "variant"):
        what = "的繁体写法" if code == "traditional" else "的异体字"
        whole = re.match(r"^(.+?) (?:是|使用了)“([^”]+)”" + what + "$", zh)
        part = re.match(r"^(.+?) (?:用繁体字书写|使用了异体字)（即 (.+)）$", zh)
        assert whole or part, zh
        raw, said = (whole or part)[1], fold((whole or part)[2])
        assert raw in subject.text and raw != fold(raw) and fold(raw) == said, zh
    elif code == "numeral":
        m = re.match(r"^(.+?) 用(大写数字|阿拉伯数字)写“([^”]+)”$", zh)
        assert m, zh
        shown = "壹贰叁肆伍陆柒捌玖拾佰仟" if m[2] == "大写数字" else "0123456789０１２３４５６７８９"
        assert m[1] in subject.text and any(c in shown for c in m[1]), zh
    elif code == "split":
        from matcher.splits import split_forms

        m = re.match(r"^(\S+) 把“([^”]+)”的“(.)”拆开写作“(..)”$", zh)
        assert m, zh
        shown, full = fold(m[1]), fold(m[2])
        assert m[3] in full and shown in folded, zh
        k = full.index(m[3])
        assert shown[k : k + 2] == m[4] and (shown, k) in split_forms(full), zh
    elif code == "contains":
        m = re.match(r"^字号包含商标“([^”]+)”$", zh)
        assert m and hit.parts is not None, zh
        trade = fold(hit.parts.trade_name)
        assert fold(m[1]) in trade and fold(m[1]) != trade, zh
    elif code in ("shop_name", "brand_name", "trademark_name"):
        m = re.match(r"^以“([^”]+)”作为|^商标申请的文字含“([^”]+)”", zh)
        assert m and subject.kind == code.removesuffix("_name"), zh
        assert fold(m[1] or m[2]) in folded, zh
    elif code == "well_known_cross_class":
        m = re.match(r"^“([^”]+)”为驰名商标，跨类保护$", zh)
        assert m and marks is not None, zh
        assert marks[hit.mark].well_known, zh
    elif code == "counterfeit_cue":
        from matcher.context import counterfeit_cue

        m = re.match(r"^商品标题含假冒提示词“([^”]+)”$", zh)
        assert m and subject.kind == "listing" and counterfeit_cue(folded) == m[1], zh
    elif code == "prior_use_possible":
        m = re.match(r"^成立于 (\S+)，早于“([^”]+)”的(注册日|申请日) (\S+)：", zh)
        assert m and marks is not None, zh
        founded, date = m[1], m[4]
        assert str(subject.founded).strip().startswith(founded) and founded[: len(date)] < date, zh
        assert str(marks[hit.mark].priority_date) == date, zh
    elif code == "numeral_form":
        from matcher.candidates import digits_as_numerals

        m = re.match(r"^“([^”]+)”是“([^”]+)”的数字用汉字写成的形式$", zh)
        assert m and digits_as_numerals(fold(m[2])) == fold(m[1]) != fold(m[2]), zh
    elif code == "alias":
        from matcher.candidates import latin_compact

        m = re.match(r"^(.+?) 与商标“([^”]+)”的外文形式 (.+) 相同或形近$", zh)
        assert m and marks is not None and m[1] in subject.text, zh
        assert m[3] in marks[hit.mark].aliases and latin_compact(fold(m[1])) == latin_compact(fold(m[3])), zh
    elif code == "pinyin":
        import itertools

        from pypinyin import Style, pinyin

        m = re.match(r"^(.+?) 是“([^”]+)”的拼音写法（全部或部分）$", zh)
        assert m and m[1] in subject.text, zh
        letters, full = re.sub(r"[^a-z]", "", _bare(fold(m[1]))), fold(m[2])
        said = [pinyin(c, style=Style.NORMAL, heteronym=True)[0] for c in full]
        spelt = {
            "".join(p)
            for i in range(len(full))
            for j in range(i + 1, len(full) + 1)
            for p in itertools.islice(itertools.product(*said[i:j]), 64)
        }
        assert letters and letters in spelt, zh
    elif code == "lookalike_script":
        m = re.match(r"^(.+?) 用全角或其他文字的形近字母冒充“([^”]+)”$", zh)
        assert m and m[1] in subject.text and not m[1].isascii(), zh
    elif code == "brand_affix":
        m = re.match(r"^将商标扩展为另一品牌名“([^”]+)”$", zh)
        assert m and fold(m[1]) in folded and mark in fold(m[1]) and fold(m[1]) != mark, zh
    elif code == "evasion":
        assert subject.kind == "listing", zh
    elif code == "reorder":
        shown = zh.split(" ")[0]
        assert sorted(shown) == sorted(mark), zh
    elif code in ("same_field", "other_field_sound", "latin_no_field", "latin_field_unknown"):
        if marks is not None:  # the mark's record says its field (callers checking one sentence pass none)
            check_field(code, zh, subject, marks[hit.mark])
    elif code == "separator":
        start, end = hit.span
        raw = subject.text[start:end]
        assert len(raw) > len(mark) and any(not (c.isalnum() and c.isprintable()) for c in raw), (zh, raw)


def _subject_classes(subject: Subject, mark: str) -> set[int]:
    """The classes the tables give the subject: its declared fields, and the industry and goods words
    of its text (but for the mark's own name in it) and category (matcher.context and matcher.fields)."""
    from matcher.context import classes_in
    from matcher.fields import field_text, subject_field

    if subject.kind == "trademark":
        return set(subject.classes) | {int(g[:2]) for g in subject.groups}
    declared = set(subject_field(subject).classes)
    outside = declared | classes_in(_outside_mark(subject, mark))
    return outside or declared | classes_in(fold(subject.text) + " " + field_text(subject))


def _outside_mark(subject: Subject, mark: str) -> str:
    """The subject's text and category with the mark's own name taken out: its characters (the 鸭 of
    周黑鸭) name no field while anything else in the text does."""
    from matcher.fields import field_text

    return fold(subject.text).replace(mark, " ") + " " + field_text(subject)


def check_field(code: str, zh: str, subject: Subject, mark: Mark) -> None:
    """A claim about fields, against the class tables: the same field is a shared class or one of the
    mark's industry words in the text; outside it, no shared class and a field shown; no field, none."""
    from matcher.context import classes_in
    from matcher.fields import field_text, mark_field, subject_field

    own = set(mark_field(mark).classes)
    shown = _subject_classes(subject, fold(mark.name))
    words = _outside_mark(subject, fold(mark.name))
    if not (classes_in(words) or subject_field(subject).known):  # nothing but the mark names a field
        words = fold(subject.text) + " " + field_text(subject)
    in_field = bool(own & shown) or any(fold(w) in words for w in mark.industries if w)
    if code == "same_field":
        assert in_field, (zh, sorted(own), sorted(shown))
    elif code == "other_field_sound":
        assert shown and (own or mark.industries) and not in_field, (zh, sorted(own), sorted(shown))
    elif code == "latin_no_field":
        assert not shown, (zh, sorted(shown))
    elif code == "latin_field_unknown":
        assert not own and not mark.industries, zh


@cache
def _segmenter():
    from matcher.segment import Segmenter

    return Segmenter([])


def _corpus_subjects() -> list[Subject]:
    """The real-case corpus as `markwatch evaluate` screens it (kind, industry, classes, founded…)."""
    from markwatch.services.evaluate import _subject

    lines = CORPUS.read_text(encoding="utf-8").splitlines() if CORPUS.exists() else []
    return [_subject(json.loads(line)) for line in lines if line.strip()]


@pytest.fixture(scope="module")
def screened() -> list[tuple[Subject, object, dict[str, Mark]]]:
    runs = [(load_marks(MARKS), _subjects())]
    if CORPUS.exists():  # the corpus also against its own marks, with every field its rows carry
        runs.append((load_marks(CORPUS.with_name("marks.yaml")), _corpus_subjects()))
    out = []
    for marks, subjects in runs:
        by_name = {m.name: m for m in marks}
        for mode in ("default", "review"):
            m = Matcher(marks, mode=mode)
            for s in subjects:
                out += [(s, h, by_name) for h in m.screen(s)]
    return out


def test_every_reason_is_true_as_written(screened) -> None:
    codes: Counter[str] = Counter()
    wrong = []
    for subject, hit, marks in screened:
        try:
            target = target_of(hit, marks)
        except AssertionError as exc:
            wrong.append(f"{subject.text}: {exc}")
            continue
        for reason in hit.to_dict()["reasons"]:
            codes[reason["code"]] += 1
            try:
                check(reason, subject, hit, target, marks)
            except AssertionError as exc:
                wrong.append(f"{subject.text}: {exc}")
    assert not wrong, "\n".join(wrong[:40])
    # the sets exercise the claims checked here
    for code in ("homophone", "shape", "insertion", "exact", "trade_name"):
        assert codes[code] > 0, code
    if CORPUS.exists():  # the real-case corpus has Latin imitations: a swap (GERE), a short form changed
        for code in (
            *("letter_shape", "transposed", "short_edit", "variant_word", "truncated", "char_deleted", "traditional"),
            *("variant", "numeral", "split", "contains", "shop_name", "brand_name", "trademark_name"),
            *("well_known_cross_class", "counterfeit_cue", "prior_use_possible", "numeral_form", "alias"),
            *("lookalike_script", "brand_affix", "evasion", "pinyin", "same_field", "latin_no_field"),
            *("latin_field_unknown", "other_field_sound", "separator"),
        ):
            assert codes[code] > 0, code


def test_a_claim_that_would_be_false_is_caught() -> None:
    """The checker itself fails on the kinds of sentence issue 21 found in the demo store."""
    with pytest.raises(AssertionError):
        check_sound("玉老吉（yù lǎo jí）与“王老吉”（wáng lǎo jí）读音相同")
    with pytest.raises(AssertionError):
        check_sound("片子癀（piān zi huáng）与“片仔癀”（piàn zǎi huáng）读音相同")
    check_sound("衣正（yī zhèng）与“一正”（yī zhèng）读音相同")
    word = "本身是常用词语或名称，又未表明属于“{m}”的行业，可能只是该词本义：证据较弱，列出供复核"
    check({"code": "variant_word", "zh": "海关 " + word}, Subject("海关"), None, "海天")
    with pytest.raises(AssertionError):
        check({"code": "variant_word", "zh": "海犬 " + word}, Subject("海犬"), None, "海天")
    false = [
        ("truncated", "云南 是“云南白药”的前 3 个字（截去其余）；列出供复核", "云南白", "云南白药"),
        ("char_deleted", "营养线 是“营养快线”省去“养”字；列出供复核", "营养线", "营养快线"),
        ("traditional", "九阳 是“九阳”的繁体写法", "九阳", "九阳"),
        ("numeral", "一正 用大写数字写“一正”", "一正", "一正"),
        ("split", "弓长小泉 把“张小泉”的“张”拆开写作“长小”", "弓长小泉", "张小泉"),
        ("numeral_form", "“际华三五一六”是“际华3515”的数字用汉字写成的形式", "际华三五一六", "际华3515"),
    ]
    for code, zh, text, mark in false:
        with pytest.raises(AssertionError):
            check({"code": code, "zh": zh}, Subject(text), None, mark)
    check({"code": "split", "zh": "弓长小泉 把“张小泉”的“张”拆开写作“弓长”"}, Subject("弓长小泉"), None, "张小泉")
    # field claims: the 鸭 of 周黑鸭 is the mark's own character, not goods the title offers
    from matcher.marksfile import parse_marks

    duck = parse_marks("marks:\n  - {name: 周黑鸭, owner: x, classes: [29, 43], industries: [鸭脖]}\n")[0]
    same = "与商标核定使用的行业相同或类似"
    check_field("same_field", same, Subject("周黑鸭同款 鸭翅", "listing"), duck)
    check_field("same_field", same, Subject("周黑鸭官方旗舰店", "shop"), duck)  # 鸭 is all it says
    with pytest.raises(AssertionError):  # the 手机壳 beside the mark says the field: not duck
        check_field("same_field", same, Subject("周黑鸭同款 手机壳", "listing"), duck)
    with pytest.raises(AssertionError):
        check_field("latin_no_field", "名称未表明所属行业", Subject("ZHOUHEIYA 鸭脖", "listing"), duck)
    with pytest.raises(AssertionError):
        check_field("latin_field_unknown", "“周黑鸭”的核定使用行业未载明", Subject("ZH0UHEIYA"), duck)
    with pytest.raises(AssertionError):
        check_field("other_field_sound", "仅读音近似", Subject("周黑丫 鸭脖", "listing"), duck)


def test_an_alias_reason_names_the_alias_the_text_spells() -> None:
    """A mark with two registered Latin forms: the sentence quotes the one found, not the first one."""
    from matcher.marksfile import parse_marks

    marks = parse_marks("marks:\n  - {name: 华为, owner: 华为技术有限公司, classes: [9], aliases: [HUAWEI, HONOR]}\n")
    by_name = {m.name: m for m in marks}
    for text, alias in (("H0N0R 手机 高仿", "HONOR"), ("HUAWEl手机 高仿", "HUAWEI")):
        (hit,) = Matcher(marks).screen(Subject(text, "listing"))
        said = [r for r in hit.to_dict()["reasons"] if r["code"] == "alias"]
        assert said and f"外文形式 {alias} " in said[0]["zh"], said
        check(said[0], Subject(text, "listing"), hit, "华为", by_name)
    with pytest.raises(AssertionError):
        check(
            {"code": "alias", "zh": "H0N0R 与商标“华为”的外文形式 HUAWEI 相同或形近"},
            Subject("H0N0R 手机", "listing"),
            hit,
            "华为",
            by_name,
        )
