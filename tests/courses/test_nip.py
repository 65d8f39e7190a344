"""The NIP rules of API.md's enrolment table."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from courses.validators import nip_validate


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("198503302010011002", "198503302010011002"),
        ("19850330 201001 1 002", "198503302010011002"),
        (" 196001012000122001 ", "196001012000122001"),
        ("200002292020012000", "200002292020012000"),  # 29 Feb of a leap year
    ],
)
def test_valid_nips_are_normalised(raw, expected):
    assert nip_validate(raw) == expected


@pytest.mark.parametrize(
    "raw, code",
    [
        ("", "nip_required"),
        ("   ", "nip_required"),
        ("19850330201001100", "nip_length"),  # 17 digits
        ("1985033020100110021", "nip_length"),  # 19 digits
        ("19850330201001100A", "nip_digits"),
        ("١٩٨٥٠٣٣٠٢٠١٠٠١١٠٠٢", "nip_digits"),  # Arabic-Indic digits are not ASCII
        ("198502302010011002", "nip_birth_date"),  # 30 February
        ("190002292010011002", "nip_birth_date"),  # 1900 was not a leap year
        ("185001012010011002", "nip_birth_date"),  # before 1900
        ("198513012010011002", "nip_birth_date"),  # month 13
        ("198503302010131002", "nip_appointment"),  # appointment month 13
        ("198503302010001002", "nip_appointment"),  # appointment month 00
        ("198503301980011002", "nip_appointment"),  # appointed before birth
        ("198503302010013002", "nip_sex"),
        ("198503302010010002", "nip_sex"),
    ],
)
def test_invalid_nips_name_the_broken_rule(raw, code):
    with pytest.raises(ValidationError) as excinfo:
        nip_validate(raw)
    assert excinfo.value.code == code


def test_future_birth_date_is_refused():
    future = datetime.date.today() + datetime.timedelta(days=400)
    with pytest.raises(ValidationError) as excinfo:
        nip_validate(f"{future:%Y%m%d}{future:%Y%m}1001")
    assert excinfo.value.code == "nip_birth_date"


real_nips = st.builds(
    lambda birth, offset_months, sex, serial: (
        f"{birth:%Y%m%d}"
        f"{birth.year + (birth.month - 1 + offset_months) // 12:04d}"
        f"{(birth.month - 1 + offset_months) % 12 + 1:02d}{sex}{serial:03d}"
    ),
    birth=st.dates(min_value=datetime.date(1940, 1, 1), max_value=datetime.date(2004, 12, 31)),
    offset_months=st.integers(min_value=216, max_value=260),
    sex=st.sampled_from("12"),
    serial=st.integers(min_value=0, max_value=999),
)


@given(real_nips)
def test_every_real_nip_is_accepted(nip):
    assert nip_validate(nip) == nip


@given(real_nips, st.sampled_from("03456789"))
def test_any_other_sex_digit_is_refused(nip, digit):
    with pytest.raises(ValidationError) as excinfo:
        nip_validate(nip[:14] + digit + nip[15:])
    assert excinfo.value.code == "nip_sex"


@given(st.text(alphabet="0123456789", min_size=0, max_size=30).filter(lambda s: len(s) not in (0, 18)))
def test_any_wrong_length_is_refused(digits):
    with pytest.raises(ValidationError) as excinfo:
        nip_validate(digits)
    assert excinfo.value.code == "nip_length"


@given(real_nips, st.integers(min_value=0, max_value=17), st.sampled_from("xX- ./"))
def test_spaces_are_ignored_but_other_characters_are_not(nip, position, char):
    tampered = nip[:position] + char + nip[position:]
    if char == " ":
        assert nip_validate(tampered) == nip
    else:
        with pytest.raises(ValidationError):
            nip_validate(tampered)
