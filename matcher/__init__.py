"""Decide which enterprise names and listings imitate which protected marks.

Pure: no I/O beyond reading the package's own data files, no Scrapy, no
Elasticsearch, so it can be benchmarked and reused anywhere.
"""

from matcher.marks import Mark, MarksFile
from matcher.screen import Matcher, search_terms
from matcher.types import Hit, NameParts, Reason, Screened, Subject

__all__ = [
    "Hit",
    "Mark",
    "MarksFile",
    "Matcher",
    "NameParts",
    "Reason",
    "Screened",
    "Subject",
    "search_terms",
]
