"""Decoders between a response body and the rows a source file's selectors read.

- JMESPath with two extra functions: `from_json(s)` parses JSON held in a string field (京东联盟's
  `queryResult`), `number(s)` reads a numeric string; identifiers in CJK (`数据.企业名称`) are
  quoted for the user, so a data file's column names can be written as they are.
- JSONP (`callback({...});`) unwrapped to its JSON.
- XML parsed as XML (element names keep their case, namespaces as the file declares them, the
  prolog's encoding honoured, no entities resolved and no network), and a document held as text
  inside another one (an .asmx reply's <string>, JSON in a string field).
- Numbers scaled (fen → yuan) and values put into templates.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

import jmespath
from jmespath import functions
from lxml import etree
from parsel import Selector

MAX_INNER_CHARS = 16_000_000


class _Functions(functions.Functions):
    @functions.signature({"types": ["string", "null"]})
    def _func_from_json(self, s):
        if s is None:
            return None
        try:
            return json.loads(s[:MAX_INNER_CHARS])
        except ValueError:
            return None

    @functions.signature({"types": ["string", "number", "null"]})
    def _func_number(self, s):
        return to_number(s)


OPTIONS = jmespath.Options(custom_functions=_Functions())
_CACHE: dict[str, Any] = {}
# A bare identifier with non-ASCII letters (企业名称, 数据_列表), not already quoted.
_BARE = re.compile(r'(?<![\w"\'`])([^\W\d][\w]*)(?![\w"\'`(])')


def _quote_cjk(expr: str) -> str:
    """Quote each bare identifier holding non-ASCII characters, outside string literals."""
    out, i = [], 0
    for m in re.finditer(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|`(?:[^`\\]|\\.)*`", expr):
        out.append(_quote_plain(expr[i : m.start()]))
        out.append(m.group(0))
        i = m.end()
    out.append(_quote_plain(expr[i:]))
    return "".join(out)


def _quote_plain(text: str) -> str:
    return _BARE.sub(
        lambda m: json.dumps(m.group(1), ensure_ascii=False) if not m.group(1).isascii() else m.group(1), text
    )


def compile_jmes(expr: str) -> Any:
    """A compiled JMESPath (cached); CJK identifiers may be written bare. Raises on a bad expression."""
    got = _CACHE.get(expr)
    if got is None:
        text = _quote_cjk(expr) if not expr.isascii() else expr
        got = _CACHE[expr] = jmespath.compile(text)
    return got


def jmes(expr: str, obj: Any) -> Any:
    """*expr* on *obj*; None when it finds nothing or cannot apply (a bad expression was refused at load)."""
    try:
        return compile_jmes(expr).search(obj, options=OPTIONS)
    except (TypeError, ValueError, jmespath.exceptions.JMESPathError):
        return None


_JSONP = re.compile(r"^\s*(?:/\*.*?\*/\s*)?[\w$.\[\]'\"]+\s*\(\s*(.*?)\s*\)\s*;?\s*$", re.S)


def unwrap_jsonp(text: str) -> str:
    """The JSON inside `callback({...});` (text without a wrapper is returned as it is)."""
    m = _JSONP.match(text[:MAX_INNER_CHARS])
    return m.group(1) if m else text


def xml_parser() -> etree.XMLParser:
    """A parser for hostile XML: no entities, no DTD loading, no network, bounded trees."""
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=True, remove_pis=True
    )


def xml_selector(body: bytes | str, namespaces: dict[str, str] | None = None, base_url: str = "") -> Selector:
    """An XML document as a parsel Selector: element names as written, the prolog's encoding used."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    if isinstance(body, str):
        data = re.sub(rb"^\s*<\?xml[^>]*\?>", b"", data, count=1)  # the text is decoded already
    try:
        root = etree.fromstring(data.lstrip() or b"<empty/>", parser=xml_parser(), base_url=base_url or None)
    except etree.XMLSyntaxError:
        root = None
    if root is None:
        raise ValueError("malformed XML")
    sel = Selector(root=root, type="xml")
    for prefix, uri in (namespaces or {}).items():
        sel.register_namespace(prefix, uri)
    return sel


def to_number(v: Any) -> Decimal | None:
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return Decimal(str(v))
    text = str(v).strip().replace(",", "").replace("¥", "").replace("￥", "")
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def scaled(v: Any, scale: float) -> Any:
    """*v* times *scale* as a plain decimal string (1990 fen × 0.01 → "19.9"); unreadable values stay."""
    if isinstance(v, list):
        return [scaled(x, scale) for x in v]
    n = to_number(v)
    if n is None:
        return v
    out = (n * Decimal(str(scale))).normalize()
    text = format(out, "f")
    return text


def templated(v: Any, template: str) -> Any:
    if isinstance(v, list):
        return [templated(x, template) for x in v]
    if v is None or v == "":
        return v
    return template.replace("{}", str(v).strip())
