"""The URLs a script of the dist loads, as string literals: fetch, importScripts, workers, the
service worker, `new URL(x, import.meta.url)`, module specifiers that are paths; each with its
line."""

from __future__ import annotations

import re
from dataclasses import dataclass

from wasmship.distformat.page import lines


@dataclass(frozen=True)
class Call:
    """A string literal a script passes where the browser loads a URL: `fetch("data.json")`."""

    function: str  # fetch, importScripts, new Worker, navigator.serviceWorker.register, new URL
    url: str
    line: int
    base: str = ""  # new URL's second argument: import.meta.url or location

    @property
    def script_relative(self) -> bool:
        """Resolved against the script's own URL; else against its document's (or worker's)."""
        return self.base.startswith("import.meta") or self.function in _SPECIFIER_FORMS

    def describe(self) -> str:
        """How the call reads in the script, for messages."""
        if self.function in ("import", "from"):
            return f'{self.function} "{self.url}"'
        if self.base:
            return f'{self.function}("{self.url}", {self.base})'
        return f'{self.function}("{self.url}")'


# A script's references, found by regular expressions, not a JavaScript parser. What they find:
# fetch / importScripts (bare, or on window, self, globalThis), new Worker, new SharedWorker,
# navigator.serviceWorker.register, and new URL(x, import.meta.url | location | location.href),
# each with a whole quoted string as its argument (importScripts: every leading one).
# Limits, on purpose: template literals, concatenation, variables and literals holding a
# backslash escape are skipped (nothing a static rewrite could follow); comments are blanked
# first, but a call written inside a string is read as a call, and a regex literal holding a
# quote or `/*` can hide the calls on its line.
_QUOTED = r""""(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'"""
_SKIPPED = re.compile(rf"{_QUOTED}|`(?:[^`\\]|\\.)*`|(?P<comment>//[^\n]*|/\*.*?\*/)", re.DOTALL)
_GLOBAL = r"(?:(?:window|self|globalThis)\s*\.\s*)?"
_CALLEE = re.compile(
    rf"""
    (?<![\w$.]) {_GLOBAL} (?P<function>fetch|importScripts) \s*\(
    | (?<![\w$.]) new \s+ (?P<new>Worker|SharedWorker|URL) \s*\(
    | (?<![\w$.]) {_GLOBAL} (?P<register>navigator\s*\.\s*serviceWorker\s*\.\s*register) \s*\(
    """,
    re.VERBOSE,
)
_ARGUMENT = re.compile(
    r"""\s*(?:"(?P<double>[^"\\\n]*)"|'(?P<single>[^'\\\n]*)')\s*(?P<end>[,)])"""
)
_URL_BASE = re.compile(
    r"""\s*(?P<base>import\s*\.\s*meta\s*\.\s*url
    |(?:(?:window|self|globalThis|document)\s*\.\s*)?location(?:\s*\.\s*href)?)\s*\)""",
    re.VERBOSE,
)


# A module specifier that is a URL path (`./x.js`, `../x.js`, `/x.js`; bare names are an import
# map's): `import "x"`, `import ... from "x"`, `export ... from "x"`, `import("x")`.
_SPECIFIER_FORMS = ("import", "from", "import()")
_SPECIFIER = re.compile(
    r"""(?<![\w$.])(?:(?P<from>from)|(?P<dynamic>import\s*\()|import)\s*"""
    r"""(?:"(?P<double>\.{0,2}/[^"\\\n]*)"|'(?P<single>\.{0,2}/[^'\\\n]*)')"""
)


def _blank_comment(match: re.Match[str]) -> str:
    """A comment as spaces (its line breaks kept, so offsets and lines stay); code as it is."""
    return re.sub(r"[^\n]", " ", match[0]) if match["comment"] is not None else match[0]


def script_calls(code: str, first_line: int = 1) -> list[Call]:
    """The string literals CODE passes where a URL is loaded, in order; lines from FIRST_LINE."""
    code = _SKIPPED.sub(_blank_comment, code)
    line_of = lines(code, first_line)
    calls = []
    for head in _CALLEE.finditer(code):
        if head["new"]:
            function = f"new {head['new']}"
        elif head["register"]:
            function = "navigator.serviceWorker.register"
        else:
            function = head["function"]
        position = head.end()
        while argument := _ARGUMENT.match(code, position):
            quote = "double" if argument["double"] is not None else "single"
            url, line = argument[quote], line_of(argument.start(quote))
            if function == "new URL":
                base = _URL_BASE.match(code, argument.end()) if argument["end"] == "," else None
                if base is not None:
                    calls.append(Call(function, url, line, re.sub(r"\s+", "", base["base"])))
                break
            calls.append(Call(function, url, line))
            if function != "importScripts" or argument["end"] == ")":
                break
            position = argument.end()
    for found in _SPECIFIER.finditer(code):
        quote = "double" if found["double"] is not None else "single"
        form = "from" if found["from"] else "import()" if found["dynamic"] else "import"
        calls.append(Call(form, found[quote], line_of(found.start(quote))))
    return sorted(calls, key=lambda call: call.line)
