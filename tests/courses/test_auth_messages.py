"""What the sign-in, reset and set-password pages say in Indonesian: the project's wording, never Django's
stock English or its stock Indonesian ("sandi" alone, "Masukkan nama pengguna nama pengguna …")."""

import re
from pathlib import Path

import django
import polib
import pytest
from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from config import stock_messages
from tests.factories import ParticipantProfileFactory

pytestmark = pytest.mark.django_db

DJANGO = Path(django.__file__).resolve().parent
NIP = "198503302010011002"


def visible_text(response) -> str:
    html = response.content.decode()
    html = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", html)
    return " ".join(re.sub(r"<[^>]+>", " ", html).replace("&#x27;", "'").replace("&quot;", '"').split())


ROOT = Path(__file__).resolve().parents[2]


def stock_plurals() -> list[polib.POEntry]:
    """The plural entries of the project's catalogue: all of them are stock_messages.PLURAL_MESSAGES'."""
    entries = [e for e in polib.pofile(str(ROOT / "config/locale/id/LC_MESSAGES/django.po")) if e.msgid_plural]
    assert len(entries) == len(stock_messages.PLURAL_MESSAGES)
    return entries


def english_stock_messages() -> list[str]:
    """Every English msgid of stock_messages, with its placeholders cut out: none may show on an Indonesian page."""
    msgids = [str(m) for m in stock_messages.MESSAGES]
    for entry in stock_plurals():
        msgids += [entry.msgid, entry.msgid_plural]
    fragments = []
    for msgid in msgids:
        for part in re.split(r"%\(\w+\)[sd]|%d", msgid):
            if len(part.split()) >= 2:
                fragments.append(part.strip(" ."))
    return fragments


def assert_indonesian_only(text: str) -> None:
    leaked = [fragment for fragment in english_stock_messages() if fragment in text]
    assert leaked == [], leaked
    assert re.findall(r"(?<!kata )\bsandi\b", text, flags=re.IGNORECASE) == [], text
    assert "nama pengguna nama pengguna" not in text


def test_the_stock_msgids_are_djangos_own():
    """Copied verbatim: Django's Indonesian catalogues hold each one (a changed msgid would silently not match)."""
    djangos = set()
    for path in DJANGO.glob("**/locale/id/LC_MESSAGES/django.po"):
        djangos |= {entry.msgid for entry in polib.pofile(str(path))}
    assert [str(m) for m in stock_messages.MESSAGES if str(m) not in djangos] == []
    assert [e.msgid for e in stock_plurals() if e.msgid not in djangos] == []


@pytest.fixture
def participant():
    return ParticipantProfileFactory(nip=NIP, full_name="Siti Rahmawati", user__email="rahmawati.siti@example.org").user


def test_a_wrong_password_on_the_login_page(client, participant):
    response = client.post("/accounts/login/", {"username": NIP, "password": "salah-sekali"})
    assert response.status_code == 200
    text = visible_text(response)
    assert (
        "NIP atau kata sandi salah. Periksa keduanya lalu coba lagi; huruf besar dan kecil pada kata sandi dibedakan."
    ) in text
    assert_indonesian_only(text)


def test_the_login_pages_username_field_is_named_for_what_people_type(client):
    from django.utils import translation

    from courses.forms import NipAuthenticationForm

    with translation.override("id"):
        assert str(NipAuthenticationForm().fields["username"].label) == "NIP"


@pytest.fixture
def set_password_url(client, participant) -> str:
    uid = urlsafe_base64_encode(force_bytes(participant.pk))
    token = default_token_generator.make_token(participant)
    response = client.get(f"/accounts/reset/{uid}/{token}/")
    assert response.status_code == 302
    return response["Location"]


def test_the_set_password_page_states_the_rules(client, set_password_url):
    text = visible_text(client.get(set_password_url))
    for rule in (
        "Kata sandi tidak boleh mirip dengan data pribadi Anda, seperti NIP, nama, atau alamat surel.",
        "Kata sandi harus terdiri atas paling sedikit 8 karakter.",
        "Kata sandi tidak boleh berupa kata sandi yang umum dipakai.",
        "Kata sandi tidak boleh hanya terdiri atas angka.",
        "Ketik sekali lagi kata sandi yang sama untuk memastikan tidak ada salah ketik.",
    ):
        assert rule in text
    assert "Kata sandi baru" in text and "Ulangi kata sandi baru" in text
    assert_indonesian_only(text)


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        ("Kaltim-Berdaulat-2026", "Kaltim-Berdaulat-2062", "Kedua kata sandi yang Anda ketik tidak sama."),
        ("Kt-26", "Kt-26", "Kata sandi ini terlalu pendek: paling sedikit 8 karakter."),
        ("password123", "password123", "Kata sandi ini terlalu umum dan mudah ditebak."),
        ("73829461038", "73829461038", "Kata sandi ini hanya terdiri atas angka."),
        ("rahmawati.siti", "rahmawati.siti", "Kata sandi terlalu mirip dengan alamat surel Anda."),
    ],
    ids=["mismatch", "too-short", "too-common", "numeric", "too-similar"],
)
def test_a_refused_password_says_why_in_indonesian(client, participant, set_password_url, first, second, message):
    password_before = participant.password
    response = client.post(set_password_url, {"new_password1": first, "new_password2": second})
    assert response.status_code == 200
    text = visible_text(response)
    assert message in text
    assert_indonesian_only(text)
    participant.refresh_from_db()
    assert participant.password == password_before


def test_the_reset_form_in_indonesian(client):
    text = visible_text(client.get("/accounts/password-reset/"))
    assert "NIP atau alamat surel" in text
    assert_indonesian_only(text)
    refused = client.post("/accounts/password-reset/", {"email": "bukan alamat"})
    assert refused.status_code == 200
    text = visible_text(refused)
    assert "Ketik NIP Anda (18 angka) atau alamat surel akun Anda." in text
    assert_indonesian_only(text)
    sent = client.post("/accounts/password-reset/", {"email": NIP}, follow=True)
    text = visible_text(sent)
    assert "Periksa surel Anda" in text
    assert_indonesian_only(text)


def test_the_catalogues_say_kata_sandi(client):
    """No Indonesian entry of the project's catalogues calls a password "sandi" alone."""
    alone = []
    for path in ROOT.glob("*/locale/id/LC_MESSAGES/django.po"):
        for entry in polib.pofile(str(path)):
            targets = [entry.msgstr, *entry.msgstr_plural.values()]
            for target in targets:
                if re.search(r"(?<!kata )\bsandi\b", " ".join(target.split()), flags=re.IGNORECASE):
                    alone.append(target)
    assert alone == []
