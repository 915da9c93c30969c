"""Password rules beyond length: refuse what is easy to guess (zxcvbn), nothing else.

NIST SP 800-63B: no composition rules, but check new passwords against commonly used, expected
or compromised values. zxcvbn scores 0 to 4; we refuse below 3 ("safely unguessable").
"""

from __future__ import annotations

import re

from zxcvbn import zxcvbn

MIN_SCORE = 3
_ZXCVBN_MAX = 72  # zxcvbn refuses longer input; the first 72 characters decide


def weakness(password: str, user_inputs: list[str] | None = None) -> str | None:
    """Why ``password`` is too easy to guess, or None when it is fine."""
    inputs: list[str] = []
    for value in user_inputs or []:
        if value:  # the whole value, the e-mail's local part, and each word of it
            local = value.split("@", 1)[0]
            inputs += [value.lower(), local.lower(), *re.split(r"[^a-z0-9]+", local.lower())]
    result = zxcvbn(password[:_ZXCVBN_MAX], user_inputs=inputs)
    if result["score"] >= MIN_SCORE:
        return None
    warning = result["feedback"].get("warning") or "it is too easy to guess"
    return f"the password is too common or easy to guess ({warning.rstrip('.').lower()})"
