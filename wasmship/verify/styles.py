"""The URLs a stylesheet of the dist loads: url(), @import and image-set() strings, each with
its line. Comments are skipped; other strings (a font's family, `content`) are not URLs."""

from __future__ import annotations

import re
from dataclasses import dataclass

from wasmship.distformat.page import lines

_QUOTED = r""""(?P<{0}d>[^"\\\n]*)"|'(?P<{0}s>[^'\\\n]*)'"""
_CSS = re.compile(
    r"/\*.*?\*/"
    rf"|url\(\s*(?:{_QUOTED.format('u')}|(?P<bare>[^)\"'\s]+))\s*\)"
    rf"|@import\s+(?:{_QUOTED.format('i')})"
    r"|image-set\((?P<set>[^()]*(?:\([^()]*\)[^()]*)*)\)",
    re.DOTALL | re.IGNORECASE,
)
_STRING = re.compile(r""""(?P<d>[^"\\\n]*)"|'(?P<s>[^'\\\n]*)'""")


@dataclass(frozen=True)
class StyleUrl:
    """A URL a stylesheet names: `url("../img/bg.png")`."""

    form: str  # url, @import, image-set
    url: str
    line: int

    def describe(self) -> str:
        """How it reads in the stylesheet, for messages."""
        return f'@import "{self.url}"' if self.form == "@import" else f'{self.form}("{self.url}")'


def style_urls(css: str, first_line: int = 1) -> list[StyleUrl]:
    """Every URL CSS loads, in order; lines from FIRST_LINE."""
    line_of = lines(css, first_line)
    found = []
    for m in _CSS.finditer(css):
        for form, group in (("url", "ud"), ("url", "us"), ("url", "bare")):
            if m[group] is not None:
                found.append(StyleUrl(form, m[group], line_of(m.start(group))))
        for group in ("id", "is"):
            if m[group] is not None:
                found.append(StyleUrl("@import", m[group], line_of(m.start(group))))
        if m["set"] is not None:
            for s in _STRING.finditer(css, m.start("set"), m.end("set")):
                group = "d" if s["d"] is not None else "s"
                found.append(StyleUrl("image-set", s[group], line_of(s.start(group))))
    return [u for u in found if u.url and not u.url.startswith("data:")]
