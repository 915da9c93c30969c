"""The search language: what parses, and what answers with a friendly error."""

from __future__ import annotations

import pytest

from artifact.infra.search.query import Filter, Not, Phrase, Prefix, Query, QueryError, Term, parse


@pytest.mark.parametrize(
    ("text", "clauses"),
    [
        ("", ()),
        ("Access  control", (Term("access"), Term("control"))),
        ('"access control"', (Phrase(("access", "control")),)),
        ("AC-2", (Phrase(("ac", "2")),)),
        ("secur*", (Prefix("secur"),)),
        ("category:Reports", (Filter("category", "reports"),)),
        ('framework:"SOC  2"', (Filter("framework", "soc 2"),)),
        ("-draft NOT retired", (Not(Term("draft")), Not(Term("retired")))),
        ("title:secret", (Phrase(("title", "secret")),)),  # not a field query: text
        ("--- ...", ()),  # punctuation only: nothing to search for, like an empty query
        ("a AND b", (Term("a"), Term("b"))),
    ],
)
def test_parses(text: str, clauses: tuple[object, ...]) -> None:
    assert parse(text) == Query(clauses)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('"unbalanced', "quotation mark"),
        ("NOT NOT x", "not another NOT"),
        ("x NOT", "NOT must be followed"),
        ("category:", "needs a value"),
        ('series:""', "needs a value"),
        ("x" * 10_000, "too long"),
        ("bad\x00byte", "control characters"),
        ("tab\there", "control characters"),
        ("a*b*", "single word"),
        ("s*", "at least 2"),
        ("*", "single word"),
        ("*:*", "single word"),  # never "everything in every field"
        ("a OR b", "OR is not supported"),
        ("w" * 41, "longer than"),
        (" ".join(["w"] * 40), "too many"),
    ],
)
def test_refuses_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        parse(text)
