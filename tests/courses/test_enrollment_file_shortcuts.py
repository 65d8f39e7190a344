"""The enrolment file's shortcuts for common cells give exactly what the full checks give."""

import itertools

import pytest
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

from courses.enrollment_file import COLUMNS, _checked_text, _FileEmails, _plain_text
from courses.validators import email_canonical

TEXT_COLUMNS = [column for column in COLUMNS if column != "nip"]
# Every ASCII character at the start, in the middle and at the end, plus the cases the rules name.
SAMPLES = [
    *(f"{chr(code)}Dinas Kominfo" for code in range(0x80)),
    *(f"Dinas{chr(code)}Kominfo" for code in range(0x80)),
    *(f"Dinas Kominfo{chr(code)}" for code in range(0x80)),
    "",
    " ",
    "-",
    "–",
    " - ",
    "Budi  Santoso",
    "Budi \u00a0Santoso",
    "Siti Nurhaliza",
    "Dinas\u200bKominfo",
    "Ré Kaltim",
    "x" * 150,
    "x" * 151,
    "x" * 200,
    "x" * 201,
    "x" * 254,
    "x" * 255,
]


@pytest.mark.parametrize("column", TEXT_COLUMNS)
def test_a_cell_the_shortcut_lets_through_passes_every_check_unchanged(column):
    passed = 0
    for value in SAMPLES:
        text = value.strip()
        if not _plain_text(column, text):
            continue
        errors = []
        assert _checked_text(column, value, errors, 2) == text, value
        assert errors == [], value
        passed += 1
    assert passed > 200  # most of the samples are plain text


@pytest.mark.parametrize("column", TEXT_COLUMNS)
def test_the_shortcut_leaves_every_cell_the_checks_change_or_refuse_to_them(column):
    for value in SAMPLES:
        errors = []
        text = _checked_text(column, value, errors, 2)
        if errors or text != value.strip():
            assert not _plain_text(column, value.strip()), value


ADDRESSES = [
    "budi@kaltimprov.go.id",
    "Budi.Santoso@KALTIMPROV.go.id",
    "budi@ＫＡＬＴＩＭＰＲＯＶ.go.id",
    "siti@bücher.example",
    "siti@xn--bcher-kva.example",
    "a@localhost",
    "a@LOCALHOST",
    "a@[127.0.0.1]",
    "a@[::1]",
    "a@[999.0.0.1]",
    '"budi santoso"@kaltimprov.go.id',
    '"a@b"@kaltimprov.go.id',
    "a@b@kaltimprov.go.id",
    "budi@",
    "@kaltimprov.go.id",
    "budi",
    "",
    "budi..santoso@kaltimprov.go.id",
    "budi@kaltimprov",
    "budi@-kaltimprov.go.id",
    "budi@kaltim_prov.go.id",
    "budi@kaltimprov.go.id.",
    "budi@" + "a" * 64 + ".go.id",
    "budi@" + "a" * 63 + ".go.id",
    "x" * 310 + "@kaltimprov.go.id",
    "budi@\u2488.example",  # a character whose IDNA form does not exist
    "budi@kaltimprov.go.id\n",
    "büdi@kaltimprov.go.id",
]


def django_canonical(address: str) -> str | None:
    try:
        EmailValidator()(address)
        return email_canonical(address)
    except (ValidationError, UnicodeError):
        return None


def test_file_emails_give_the_validators_verdict_and_the_canonical_form():
    assert {django_canonical(a) is None for a in ADDRESSES} == {True, False}
    emails = _FileEmails()
    # Twice, in both orders: what is kept per domain does not change a later verdict.
    for address in itertools.chain(ADDRESSES, reversed(ADDRESSES), ADDRESSES):
        assert emails(address) == django_canonical(address), address
