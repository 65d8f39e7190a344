"""Helpers of the official-certificate tests (their fixtures are in conftest.py), and the content of a
certificate and of its credential that the document, seal and credential tests (and benchmarks) start from."""

import datetime
import io
from pathlib import Path

import pypdfium2
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pypdf import PdfReader

from certificates import sealing
from certificates.credentials import CredentialSnapshot
from certificates.pdf import SEAL_PLACEMENT, CertificateContent

ISSUER = "Dinas Komunikasi dan Informatika Provinsi Kalimantan Timur"
SITE = "http://127.0.0.1:8000"
NIP = "198503302010011002"

SIGNATORY = {
    "signatory_name": "Dr. Andi Pratama, S.Kom., M.T.",
    "signatory_position": "Kepala Dinas Komunikasi dan Informatika Provinsi Kalimantan Timur",
    "signatory_nip": "19700101 199503 1 001",
    "signatory_rank": "Pembina Utama Muda (IV/c)",
}


def demo_sealer(directory) -> sealing.LocalSealer:
    """The demo seal of ``ISSUER`` (self-signed), kept in ``directory``."""
    p12 = sealing.demo_seal_ensure(directory=directory, issuer=ISSUER)
    passphrase = (directory / sealing.DEMO_PASSPHRASE_FILE).read_text()
    return sealing.LocalSealer(p12_path=p12, passphrase=passphrase, demo=True)


def self_signed(key, *, not_before=None, not_after=None) -> x509.Certificate:
    name = x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, "Test seal"), x509.NameAttribute(NameOID.ORGANIZATION_NAME, ISSUER)]
    )
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - datetime.timedelta(days=1))
        .not_valid_after(not_after or now + datetime.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )


def seal_file(path: Path, key, passphrase: bytes, *, name: bytes = b"s", certificate=None) -> Path:
    """A PKCS#12 seal file at ``path``: ``key`` with ``certificate`` (default: self-signed for it)."""
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            name, key, certificate or self_signed(key), None, serialization.BestAvailableEncryption(passphrase)
        )
    )
    return path


def ink_in_seal_box(data: bytes, *, scale: int = 2, inset: int = 0, forms: bool = True) -> int:
    """The dark pixels a PDF reader draws (at ``scale``) in the seal's reserved rectangle, ``inset``
    points inside its edges; with ``forms`` False, of the page's own drawing only (no form fields)."""
    document = pypdfium2.PdfDocument(data)
    if forms:
        document.init_forms()
    image = document[0].render(scale=scale, may_draw_forms=forms).to_pil().convert("L")
    x0, y0, x1, y1 = (scale * v for v in SEAL_PLACEMENT.box)
    margin = inset * scale
    box = image.crop((x0 + margin, image.height - y1 + margin, x1 - margin, image.height - y0 - margin))
    return sum(1 for value in box.get_flattened_data() if value < 160)


def stored_bytes(certificate) -> bytes:
    with certificate.pdf.open("rb") as handle:
        return handle.read()


def page_text(data: bytes) -> str:
    """pypdf's text of page 1 with whitespace runs made single spaces (wrapped lines join up)."""
    return " ".join(PdfReader(io.BytesIO(data)).pages[0].extract_text().split())


def certificate_content(**changes) -> CertificateContent:
    """A certificate's content with only what every certificate states (``changes`` replace any field)."""
    values = {
        "holder_name": "Siti Rahmawati",
        "holder_nip": NIP,
        "course_title": "Pelatihan GCIO",
        "cohort_name": "Angkatan I 2026",
        "issued_on": datetime.date(2026, 12, 2),
        "number": "GCIO-KALTIM/2026/00042",
        "code": "ABCD-EFGH-JKMN",
        "verify_url": f"{SITE}/verify/ABCD-EFGH-JKMN/",
        "issuer": ISSUER,
    }
    return CertificateContent(**{**values, **changes})


def official_content(**changes) -> CertificateContent:
    """A certificate's content with every element of the official layout filled (``changes`` replace any)."""
    values = {
        "holder_name": "Siti Rahmawati, S.Kom., M.Si.",
        "course_title": "Pelatihan Government Chief Information Officer (GCIO)",
        "holder_position": "Kepala Seksi Tata Kelola E-Government",
        "holder_unit": "Dinas Komunikasi dan Informatika Kabupaten Kutai Kartanegara",
        "starts_on": datetime.date(2026, 12, 2),
        "ends_on": datetime.date(2026, 12, 27),
        "jp": 5,
        "place": "Samarinda",
        "signatory_position": "Kepala Dinas Komunikasi dan Informatika Provinsi Kalimantan Timur",
        "signatory_name": "Dr. Muhammad Faisal, S.Kom., M.T.",
        "signatory_nip": "19700101 199503 1 001",
        "signatory_rank": "Pembina Utama Muda (IV/c)",
    }
    return certificate_content(**{**values, **changes})


def credential_snapshot(**changes) -> CredentialSnapshot:
    """What a certificate's credential says (``changes`` replace any field)."""
    values = {
        "holder_name": "Siti Rahmawati",
        "holder_nip": NIP,
        "course_slug": "gcio",
        "course_title": "Pelatihan Government Chief Information Officer (GCIO)",
        "course_description": "Transformasi digital, kepemimpinan digital, implementasi, dan hal-hal yang perlu "
        "diperhatikan.",
        "cohort_name": "Angkatan I 2026",
        "period_start": datetime.date(2026, 1, 5),
        "period_end": datetime.date(2026, 6, 30),
        "jp": 20,
        "issuer_name": ISSUER,
        "number": "GCIO-KALTIM/2026/00042",
        "code": "ABCDEFGHJKMN",
        "issued_at": datetime.datetime(2026, 12, 2, 9, 30, 15, 123456, tzinfo=datetime.UTC),
        "verify_url": f"{SITE}/verify/ABCD-EFGH-JKMN/",
    }
    return CredentialSnapshot(**{**values, **changes})
