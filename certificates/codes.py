"""Verification codes: 60 bits from the OS CSPRNG in upper-case Crockford base32, shown as XXXX-XXXX-XXXX."""

import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 12  # 12 symbols × 5 bits = 60 bits
# Crockford's decoding rules: letters people confuse with digits read as those digits.
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-_.]+")
_SYMBOLS = frozenset(ALPHABET)


def code_generate() -> str:
    value = secrets.randbits(5 * LENGTH)
    return "".join(ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(LENGTH)))


def code_display(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, LENGTH, 4))


def code_normalize(text: str) -> str | None:
    """The stored form of a typed or scanned code (case, dashes and spaces ignored), or None if malformed."""
    compact = _SEPARATORS.sub("", str(text or "")).upper().translate(_READ_AS)
    if len(compact) != LENGTH or not _SYMBOLS.issuperset(compact):
        return None
    return compact
