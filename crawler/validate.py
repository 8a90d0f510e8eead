"""Selectors and JMESPath expressions checked when a source file is read, not when a page is.

A CSS/XPath selector that does not parse or a JMESPath that does not compile is a mistake in the
file: it is reported as one line naming the file, the key and the problem (crawler.sources turns the
ValueError raised here into a SourceError), and the scan or `sources check` exits 2 before any request.
"""

from __future__ import annotations

from typing import Any

from parsel import Selector

_PROBE = Selector(text="<html><body></body></html>", type="html")


def check_jmes(expr: str, what: str = "json") -> None:
    """ValueError naming the problem when *expr* is not a JMESPath (CJK names are accepted bare)."""
    from crawler.decoders import compile_jmes

    try:
        compile_jmes(expr)
    except Exception as exc:  # noqa: BLE001 - jmespath raises several error types
        raise ValueError(f"{what} {expr!r} is not a valid JMESPath: {_jmes_problem(exc)}") from None


def _jmes_problem(exc: Exception) -> str:
    msg = getattr(exc, "msg", None) or str(exc).splitlines()[0]
    return " ".join(str(msg).split())[:120]


def check_css(expr: str) -> None:
    try:
        _PROBE.css(expr)
    except Exception as exc:  # noqa: BLE001 - cssselect and lxml raise several error types
        raise ValueError(f"css {expr!r} is not a valid selector: {' '.join(str(exc).split())[:120]}") from None


def check_xpath(expr: str) -> None:
    try:
        _PROBE.xpath(expr, namespaces={"x": "urn:x"})
    except ValueError as exc:
        text = str(exc)
        if "Undefined namespace prefix" in text:
            return  # the source's `namespaces` give the prefixes; checked at run time
        raise ValueError(f"xpath {expr!r} is not a valid XPath: {' '.join(text.split())[:120]}") from None


def check_field(spec: Any) -> None:
    """Compile whichever selector a FieldSpec (or similar) holds."""
    if getattr(spec, "css", None) is not None:
        check_css(spec.css)
    if getattr(spec, "xpath", None) is not None:
        check_xpath(spec.xpath)
    if getattr(spec, "json_", None) is not None:
        check_jmes(spec.json_)


def check_rows(expr: str, data_format: str) -> None:
    """pages.rows: JMESPath for JSON, CSS/XPath for HTML and XML."""
    if data_format == "json":
        check_jmes(expr, "rows")
    elif expr.startswith("xpath:"):
        check_xpath(expr[6:])
    elif expr.startswith(("/", "(")) or data_format == "xml":
        check_xpath(expr)
    else:
        check_css(expr)
