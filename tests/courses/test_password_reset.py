"""Password reset by NIP or by email address: the link goes to the account's address, in both languages,
within the address's hourly allowance, and the answer never tells whether an account exists."""

import re

import pytest
from django.core import mail

from tests.factories import ParticipantProfileFactory, UserFactory

pytestmark = pytest.mark.django_db

NIP = "198503302010011002"
SENT = "/accounts/password-reset/sent/"


@pytest.fixture
def participant():
    return ParticipantProfileFactory(nip=NIP, full_name="Siti Rahmawati", user__email="siti@example.org")


def reset(client, typed: str):
    return client.post("/accounts/password-reset/", {"email": typed}, REMOTE_ADDR="203.0.113.20")


def test_a_nip_with_spaces_sends_the_link_to_the_accounts_address(client, participant):
    response = reset(client, "19850330 201001 1 002")
    assert (response.status_code, response["Location"]) == (302, SENT)
    (message,) = mail.outbox
    assert message.to == ["siti@example.org"]
    link = re.search(r"http://testserver(/accounts/reset/[^/\s]+/[^/\s]+/)", message.body).group(1)
    assert client.get(link).status_code == 302  # a valid link: on to the set-password form


def test_the_email_is_bilingual_like_the_invitation(client, participant):
    reset(client, NIP)
    (message,) = mail.outbox
    assert message.subject == "Buat kata sandi baru untuk Platform Pelatihan GCIO"
    indonesian, english = message.body.split("\n\n— — —\n\n")
    assert indonesian.startswith(
        "Ada permintaan untuk membuat kata sandi baru bagi akun Anda di Platform Pelatihan GCIO."
    )
    assert f"Nama pengguna Anda: {NIP}" in indonesian
    assert english.startswith("Someone asked to set a new password for your account on the GCIO Training Platform.")
    assert f"Your login name: {NIP}" in english
    links = re.findall(r"http://testserver/accounts/reset/\S+", message.body)
    assert len(links) == 2 and links[0] == links[1]
    assert message.body.endswith("\n")


def test_an_email_address_still_works(client, participant):
    assert reset(client, "Siti@Example.org")["Location"] == SENT
    assert [m.to for m in mail.outbox] == [["siti@example.org"]]


@pytest.mark.parametrize(
    "typed",
    ["197912312005011003", "nobody@example.org"],
    ids=["unknown-nip", "unknown-address"],
)
def test_nothing_known_gets_the_same_answer_and_no_email(client, participant, typed):
    response = reset(client, typed)
    assert (response.status_code, response["Location"]) == (302, SENT)
    assert mail.outbox == []


def test_an_inactive_account_or_one_without_address_gets_nothing(client):
    inactive = ParticipantProfileFactory(user__email="lama@example.org")
    inactive.user.is_active = False
    inactive.user.save()
    no_address = ParticipantProfileFactory(user__email="")
    for profile in (inactive, no_address):
        assert reset(client, profile.nip)["Location"] == SENT
    assert mail.outbox == []


def test_a_staff_username_of_digits_is_not_a_nip(client):
    """Only a participant's NIP finds an account: a staff account whose username is all digits is not one."""
    UserFactory(username="198001012005011001", email="staf@example.org")
    assert reset(client, "198001012005011001")["Location"] == SENT
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("1985 0330 2010", "NIP terdiri atas 18 angka, sedangkan yang Anda ketik 12 angka."),
        ("siti@", "Ketik NIP Anda (18 angka) atau alamat surel akun Anda."),
        ("", "Isian ini wajib diisi."),
    ],
    ids=["short-nip", "broken-address", "empty"],
)
def test_a_mistyped_value_is_explained_and_sends_nothing(client, participant, typed, message):
    response = reset(client, typed)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()
    assert mail.outbox == []


def test_the_allowance_counts_per_resolved_address(client, participant):
    """Three emails an hour to one address, whether the requests named its NIP or the address itself."""
    for typed in (NIP, "siti@example.org", "1985 0330 2010 0110 02", NIP, "SITI@example.org"):
        assert reset(client, typed)["Location"] == SENT
    assert [m.to for m in mail.outbox] == [["siti@example.org"]] * 3


def test_the_form_page_asks_for_a_nip_or_an_address(client):
    html = client.get("/accounts/password-reset/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<label for="id_email">NIP or email address</label>' in html
    assert 'type="text" name="email"' in html
