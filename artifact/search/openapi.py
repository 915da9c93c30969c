"""Search's part of the OpenAPI document."""

from __future__ import annotations

from typing import Any

from artifact.infra.search.backend import FACETS, PAGES_PER_HIT
from artifact.infra.search.query import MAX_CLAUSES, MAX_QUERY_CHARS, MAX_WORD_CHARS
from artifact.search.kinds import KINDS
from artifact.search.services import MAX_FILTER_CHARS, MAX_PAGE
from artifact.web.openapi_parts import OPTIONAL_AUTH, errors, ok, query

_STR = {"type": "string"}
_COUNTS = {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}
# What the query parser refuses that a pattern can say (the rest is in the description):
# control, format and private-use characters (UNSEARCHABLE), an unclosed quotation mark, a word
# of ASCII letters and digits longer than MAX_WORD_CHARS, OR, and a NOT (or -) followed by
# another or by nothing. Spelled as a sequence of runs rather than with a look-ahead for the
# word length, so that tools can draw values of a given length without searching for them.
# Unicode categories Cc, Cf and Co (as the parser reads them with unicodedata, Unicode 14):
# code point ranges, spelled so that every regular expression engine reads them alike.
UNSEARCHABLE = (
    (0x00, 0x1F),
    (0x7F, 0x9F),
    (0xAD, 0xAD),
    (0x600, 0x605),
    (0x61C, 0x61C),
    (0x6DD, 0x6DD),
    (0x70F, 0x70F),
    (0x890, 0x891),
    (0x8E2, 0x8E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xE000, 0xF8FF),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x13438),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
    (0xF0000, 0xFFFFD),
    (0x100000, 0x10FFFD),
)


def _code(point: int) -> str:
    # \uXXXX in the basic plane; beyond it the character itself (no escape is read alike).
    return f"\\u{point:04X}" if point <= 0xFFFF else chr(point)


def _ranges(astral: bool) -> str:
    return "".join(
        _code(low) if low == high else f"{_code(low)}-{_code(high)}"
        for low, high in UNSEARCHABLE
        if (low > 0xFFFF) == astral
    )


# White space and ASCII punctuation but the quotation mark: what ends a word for certain.
_SEPARATORS = r" \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000!#-/:-@\[-`{-~"


def _query_pattern() -> str:
    # A word here is a run of anything but separators (the parser's words, runs of letters
    # and digits, lie inside one), so a run longer than MAX_WORD_CHARS is refused.
    word = f'[^\\s"{_SEPARATORS[1:]}{_ranges(astral=False)}]{{0,{MAX_WORD_CHARS}}}'
    runs = f"(?:{word}[{_SEPARATORS}])*"
    quoted = f'{word}"{runs}{word}"{runs}'
    negation = r"(?:^|\s)(?:NOT|-)(?:\s+AND(?=\s|$))*"
    # At the end, after a closing quotation mark too (an opening one would need closing).
    trailing = r'(?:^|\s|")(?:NOT|-)(?:\s+AND(?=\s|$))*\s*$'
    return (
        # The few code points beyond the basic plane in a look-ahead: cheaper to draw from.
        rf"^(?![\s\S]*[{_ranges(astral=True)}])"
        r"(?![\s\S]*(?:^|\s)OR(?:\s|$))"
        rf"(?![\s\S]*{trailing})"
        rf"(?![\s\S]*{negation}\s+(?:-|NOT(?:\s|$)))"
        rf"{runs}(?:{quoted})*{word}$"
    )


QUERY_PATTERN = _query_pattern()

SCHEMAS: dict[str, Any] = {
    "SearchHit": {
        "type": "object",
        "description": "one document: a record, or one version of its file",
        "required": ["type", "id", "title", "snippet", "pages", "version", "current", "locked"],
        "properties": {
            "type": {"type": "string", "enum": list(KINDS)},
            "id": _STR,
            "title": _STR,
            "snippet": {
                "type": "string",
                "description": "HTML: escaped text with the matched words in <mark>, from the "
                "best matching page, else from the metadata",
            },
            "pages": {
                "type": "array",
                "maxItems": PAGES_PER_HIT,
                "items": {"type": "integer", "minimum": 1},
                "description": "the best matching pages of this version of the file, best "
                "first (only for callers who may download the file now; else empty)",
            },
            "version": {
                "type": ["integer", "null"],
                "minimum": 1,
                "description": "the file version the hit is (null: found by its metadata only)",
            },
            "current": {
                "type": "boolean",
                "description": "false for an older version (found with version:all)",
            },
            "locked": {
                "type": "boolean",
                "description": "a listed report the caller may ask for but not open, found by "
                "its catalog facts (title, category, series, issuer) only, never by its text; "
                "such hits follow the others on the first page of an unfiltered search",
            },
        },
    },
    "SearchResults": {
        "type": "object",
        "required": ["total", "page", "hits", "facets", "suggestion"],
        "properties": {
            "total": {
                "type": "integer",
                "minimum": 0,
                "description": "matching documents the caller may see (with version:all, "
                "each matching version of a file counts)",
            },
            "page": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
            "hits": {"type": "array", "items": {"$ref": "#/components/schemas/SearchHit"}},
            "facets": {
                "type": "object",
                "properties": {name: _COUNTS for name in FACETS},
            },
            "suggestion": {
                "type": ["string", "null"],
                "description": "when nothing matched: the query with misspelt words replaced "
                "by the closest words (one edit for 4-7 letters, two for longer) of documents "
                "the caller may see, if that finds something; else null",
            },
        },
    },
}
_FILTER = {"type": "string", "maxLength": MAX_FILTER_CHARS, "pattern": r"^[^\x00-\x1f\x7f]*$"}
PATHS: dict[str, Any] = {
    "/search": {
        "get": {
            "operationId": "search",
            "summary": "Full-text search over what the caller may see (anyone)",
            "description": 'Words (all must match), "phrases", prefix*, -word or NOT word, '
            "and the filters category:, series:, framework:, type:, year: inside q or as "
            "parameters; version:all includes older versions of files (current ones only by "
            "default). One hit per document, with its best pages. A * ends a single word of "
            "at least two letters; at most "
            f"{MAX_CLAUSES} words or phrases. Ten hits a page. A query the parser cannot read "
            "is a 400 whose message says why.",
            "security": OPTIONAL_AUTH,
            "parameters": [
                query(
                    "q",
                    {"type": "string", "maxLength": MAX_QUERY_CHARS, "pattern": QUERY_PATTERN},
                    "the query",
                ),
                *(query(name, _FILTER, "facet filter") for name in FACETS),
                query("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}),
            ],
            "responses": {
                **ok(200, "the hits and facet counts", "SearchResults"),
                **errors(400, 401),
            },
        }
    },
}
