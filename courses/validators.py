"""NIP (Nomor Induk Pegawai) validation, the normal forms of a login name and of an email address, and text a
certificate prints."""

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
    text = str(value or "")
    return text if text.isdigit() else _SPACES.sub("", text)  # digits alone hold no space: no search


def login_username_normalize(value: str) -> str:
    """Return the username a sign-in names: a NIP loses its spaces (people copy it grouped), others are trimmed.

    NFKC first, as Django's login form does, so that every spelling reaching one account is one name
    (the sign-in limit counts per name).
    """
    username = unicodedata.normalize("NFKC", str(value or "")).strip()
    compact = username.replace(" ", "")
    return compact if compact.isdigit() else username


def email_canonical(email: str) -> str:
    """The address as mail servers see it, case-folded: a domain in Unicode (full-width letters, say) in
    its ASCII (IDNA) form, so that it is compared with the accounts' addresses for what it is.

    Raises UnicodeError when the domain has no IDNA form (see :func:`email_key`)."""
    local, _at, domain = email.rpartition("@")
    return f"{local}@{domain.encode('idna').decode('ascii')}".lower()


def email_key(email: str) -> str:
    """What makes two accounts' addresses the same (``ParticipantProfile.email_key``): the canonical
    form of ``email``; "" for no address; for an address stored before it was validated whose domain
    has no IDNA form, just its lower case."""
    if not email:
        return ""
    if "@" not in email:
        return email.lower()
    try:
        return email_canonical(email)
    except UnicodeError:
        return email.lower()


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


# Characters that change how text is laid out or pad it without being seen: control characters
# (but tab and line breaks),
# format characters (Unicode category Cf: the bidirectional embeddings, overrides and isolates
# U+202A–U+202E and U+2066–U+2069, zero-width spaces, joiners and marks U+200B–U+200F, U+2060–U+2064,
# the byte order mark U+FEFF, soft hyphens, tags), line and paragraph separators, lone surrogates,
# and the invisible combining marks, variation selectors and blank "letters" that pass for text.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_INVISIBLE_OTHERS = re.compile(
    "[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u2800\u3164\ufe00-\ufe0f\uffa0\U000e0100-\U000e01ef]"
)


def visible_text_validate(value: str) -> None:
    """Refuse text with characters that are not seen but change what is shown.

    A name, unit or position with a right-to-left override prints reversed on a certificate, and
    one with zero-width characters looks like another person's name. Raises ``ValidationError``
    (code ``invisible_character``) naming the first such character.
    """
    text = str(value or "")
    if text.isascii() and text.isprintable():
        return  # letters, digits, punctuation and spaces only (most names): nothing unseen
    for char in text:
        if char in "\t\n\r":  # white space, seen as such (and folded where it matters)
            continue
        if unicodedata.category(char) in _INVISIBLE_CATEGORIES or _INVISIBLE_OTHERS.match(char):
            raise ValidationError(
                _(
                    "Contains an invisible character (U+%(code)04X %(name)s) that changes how the text is shown, "
                    "e.g. reversed or padded on a certificate. Type the value again."
                ),
                code="invisible_character",
                params={"code": ord(char), "name": unicodedata.name(char, "")},
            )
