"""NIP (Nomor Induk Pegawai) validation as the enrolment file table defines it; the normal form of a login name."""

import datetime
import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

NIP_LENGTH = 18
_SPACES = re.compile(r"\s+")


def nip_normalize(value: str) -> str:
    """Return the NIP with every space removed (spaces inside are ignored)."""
    return _SPACES.sub("", str(value or ""))


def login_username_normalize(value: str) -> str:
    """Return the username a sign-in names: a NIP loses its spaces (people copy it grouped), others are trimmed.

    NFKC first, as Django's login form does, so that every spelling reaching one account is one name
    (the sign-in limit counts per name).
    """
    username = unicodedata.normalize("NFKC", str(value or "")).strip()
    compact = username.replace(" ", "")
    return compact if compact.isdigit() else username


def nip_validate(value: str, *, today: datetime.date | None = None) -> str:
    """Validate a NIP and return its normalised form.

    Layout: birth date ``YYYYMMDD``, appointment ``YYYYMM``, sex ``1`` or ``2``,
    serial ``NNN``. Raises ``ValidationError`` with a code naming the broken rule.
    ``today`` (WITA) may be passed by callers validating many NIPs at once.
    """
    nip = nip_normalize(value)
    if not nip:
        raise ValidationError(_("NIP is required."), code="nip_required")
    if not nip.isdigit() or not nip.isascii():
        raise ValidationError(
            _("NIP must contain digits only (found “%(value)s”)."),
            code="nip_digits",
            params={"value": nip[:40]},
        )
    if len(nip) != NIP_LENGTH:
        raise ValidationError(
            _("NIP must be exactly 18 digits (found %(count)d)."),
            code="nip_length",
            params={"count": len(nip)},
        )
    today = today or timezone.localdate()
    try:
        birth = datetime.date(int(nip[0:4]), int(nip[4:6]), int(nip[6:8]))
    except ValueError:
        birth = None
    if birth is None or birth.year < 1900 or birth > today:
        raise ValidationError(
            _("NIP digits 1–8 must be a real birth date YYYYMMDD (found %(value)s)."),
            code="nip_birth_date",
            params={"value": nip[0:8]},
        )
    year, month = int(nip[8:12]), int(nip[12:14])
    appointment_ok = 1 <= month <= 12 and (birth.year, birth.month) <= (year, month) <= (today.year, today.month)
    if not appointment_ok:
        raise ValidationError(
            _(
                "NIP digits 9–14 must be a real appointment month YYYYMM, after the birth date "
                "and not in the future (found %(value)s)."
            ),
            code="nip_appointment",
            params={"value": nip[8:14]},
        )
    if nip[14] not in "12":
        raise ValidationError(
            _("NIP digit 15 is the sex code and must be 1 or 2 (found %(value)s)."),
            code="nip_sex",
            params={"value": nip[14]},
        )
    return nip


def validate_nip(value: str) -> None:
    """Model-field validator form of :func:`nip_validate`."""
    nip_validate(value)
