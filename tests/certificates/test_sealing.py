"""The PAdES seal: sealing with the demo seal, validation by pyHanko, tampering, trust, uploads refused, the config check."""

import datetime
import hashlib
import io
import os
import re
import stat
import time
import zlib
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from django.utils import translation
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader, PdfWriter

from certificates import pdf_inspect, sealing
from certificates.pdf import SEAL_PLACEMENT, render_certificate_pdf
from tests.certificates.official import (
    ISSUER,
    certificate_content,
    demo_sealer,
    ink_in_seal_box,
    seal_file,
    self_signed,
)

CONTENT = certificate_content()


@pytest.fixture(scope="module")
def other_sealer(tmp_path_factory) -> sealing.LocalSealer:
    """Another self-signed seal with the same names: only its key differs."""
    return demo_sealer(tmp_path_factory.mktemp("other-keys"))


@pytest.fixture(scope="module")
def unsealed() -> bytes:
    return render_certificate_pdf(CONTENT)


@pytest.fixture(scope="module")
def sealed(sealer, unsealed) -> bytes:
    return sealer.seal(unsealed, placement=SEAL_PLACEMENT, location="Samarinda")


@pytest.fixture
def fast_bounds(settings):
    settings.CERTIFICATES_INSPECT_TIMEOUT_SECONDS = 5
    settings.CERTIFICATES_INSPECT_MEMORY_MB = 256


def der(sealer) -> asn1_x509.Certificate:
    """The seal certificate as pyHanko's validator takes it."""
    return asn1_x509.Certificate.load(sealer.certificate.public_bytes(serialization.Encoding.DER))


def pyhanko_status(pdf: bytes, roots):
    signature = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures[0]
    context = ValidationContext(trust_roots=roots, allow_fetching=False)
    return validate_pdf_signature(signature, context, skip_diff=True)


def signature_dictionary(pdf: bytes):
    """The seal's signature dictionary and widget, read with pypdf (not the library that wrote them)."""
    reader = PdfReader(io.BytesIO(pdf))
    fields = reader.trailer["/Root"]["/AcroForm"]["/Fields"]
    (field,) = [f.get_object() for f in fields if f.get_object().get("/FT") == "/Sig"]
    return field["/V"].get_object(), field


# --- Sealing ---------------------------------------------------------------------------------


def test_the_rendered_pdf_carries_its_code_and_is_still_deterministic(unsealed):
    assert render_certificate_pdf(CONTENT) == unsealed
    assert PdfReader(io.BytesIO(unsealed)).metadata["/GCIOCode"] == "ABCD-EFGH-JKMN"


def test_a_sealed_certificate_is_valid_intact_and_trusted_against_its_own_seal(sealer, unsealed, sealed):
    assert sealed.startswith(unsealed)  # an incremental update: the issued bytes stay in front
    status = pyhanko_status(sealed, [der(sealer)])
    assert (status.intact, status.valid, status.trusted) == (True, True, True)
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE

    ours = sealing.seal_validate(sealed, trust_roots=[sealer.certificate])
    assert (ours.present, ours.intact, ours.trusted, ours.valid) == (True, True, True, True)
    assert ours.signer == sealing.DEMO_SEAL_COMMON_NAME
    assert ours.organisation == ISSUER
    assert ours.subfilter == "/ETSI.CAdES.detached"
    assert ours.certificate_sha256 == sealer.certificate.fingerprint(hashes.SHA256()).hex()
    assert abs(ours.signed_at - datetime.datetime.now(datetime.UTC)) < datetime.timedelta(minutes=5)
    assert ours.timestamped is False


def test_a_certificate_is_sealed_where_an_event_loop_is_already_running(sealer, unsealed):
    """An asynchronous host (or a test driving a browser) calls the issuing code with a loop running."""
    import asyncio

    async def issue_from_async_code() -> bytes:
        return sealer.seal(unsealed, placement=SEAL_PLACEMENT, location="Samarinda")

    sealed = asyncio.run(issue_from_async_code())
    status = pyhanko_status(sealed, [der(sealer)])
    assert status.intact and status.valid


def test_the_signature_dictionary_is_pades_with_reason_and_location(sealed):
    signature, _field = signature_dictionary(sealed)
    assert signature["/Type"] == "/Sig"
    assert signature["/Filter"] == "/Adobe.PPKLite"
    assert signature["/SubFilter"] == "/ETSI.CAdES.detached"
    assert signature["/Reason"] == "Dokumen ini ditandatangani secara elektronik"
    assert signature["/Location"] == "Samarinda"


def test_the_seal_is_a_visible_printed_widget_where_the_renderer_left_room(sealed, unsealed):
    _signature, field = signature_dictionary(sealed)
    page = PdfReader(io.BytesIO(sealed)).pages[SEAL_PLACEMENT.page]
    widgets = [a.get_object() for a in page["/Annots"] if a.get_object().get("/Subtype") == "/Widget"]
    assert [w.get("/FT") for w in widgets] == ["/Sig"]
    widget = widgets[0]
    assert [float(v) for v in widget["/Rect"]] == [float(v) for v in SEAL_PLACEMENT.box]
    assert int(widget["/F"]) & 4  # printed
    appearance = widget["/AP"]["/N"].get_object().get_data()
    assert b"Disegel secara elektronik oleh" in appearance

    # A PDF reader draws it: the reserved rectangle is blank before sealing and inked after.
    # Inside the border (3 points in): only the stamp's text can put ink there.
    assert ink_in_seal_box(sealed, scale=3, inset=3) > 100


def test_sealing_is_not_byte_deterministic_but_every_seal_is_valid(sealer, unsealed, sealed, caplog):
    with caplog.at_level("DEBUG", logger="pyhanko"):
        again = sealer.seal(unsealed, location="Samarinda")
    assert [r.getMessage() for r in caplog.records if r.levelno >= 30] == []  # nothing logged per seal
    assert again != sealed
    assert sealing.seal_validate(again, trust_roots=[sealer.certificate]).valid


def test_a_seal_larger_than_the_room_set_aside_is_sized_by_pyhanko(tmp_path, unsealed, caplog):
    sealer = demo_sealer(tmp_path)
    sealer._reserve = 256  # far too small for the CMS
    with caplog.at_level("WARNING", logger="certificates.sealing"):
        sealed = sealer.seal(unsealed, location="Samarinda")
    assert sealing.seal_validate(sealed, trust_roots=[sealer.certificate]).valid
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == [
        "Seal larger than 256 bytes reserved; letting pyHanko size it"
    ]
    assert sealer._reserve is None


def test_sealing_with_an_rsa_key_validates_too(tmp_path, unsealed):
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    p12 = tmp_path / "rsa.p12"
    seal_file(p12, key, b"pw", name=b"rsa")
    rsa_sealer = sealing.LocalSealer(p12_path=p12, passphrase="pw")
    status = sealing.seal_validate(
        rsa_sealer.seal(unsealed, location="Samarinda"), trust_roots=[rsa_sealer.certificate]
    )
    assert status.valid


# --- Tampering and trust ---------------------------------------------------------------------


def test_one_byte_changed_inside_the_signed_range_breaks_the_seal(sealer, sealed):
    # Claim another certificate's code: same length, so the file stays well-formed and parseable.
    assert sealed.count(b"/GCIOCode (ABCD-EFGH-JKMN)") == 1
    forged = sealed.replace(b"/GCIOCode (ABCD-EFGH-JKMN)", b"/GCIOCode (ABCD-EFGH-JKMP)")
    assert len(forged) == len(sealed) and sum(a != b for a, b in zip(forged, sealed, strict=True)) == 1
    PdfReader(io.BytesIO(forged)).pages[0].extract_text()  # still parseable

    status = sealing.seal_validate(forged, trust_roots=[sealer.certificate])
    assert (status.present, status.intact, status.trusted, status.valid) == (True, False, False, False)
    assert pyhanko_status(forged, [der(sealer)]).intact is False


def test_content_appended_after_sealing_is_not_covered_by_the_seal(sealer, sealed):
    writer = IncrementalPdfFileWriter(io.BytesIO(sealed), strict=False)
    stamp = generic.StreamObject(stream_data=b"BT /F1 40 Tf 300 300 Td (DIUBAH) Tj ET")
    writer.add_stream_to_page(0, writer.add_object(stamp))
    output = io.BytesIO()
    writer.write(output)
    altered = output.getvalue()

    # The signed bytes themselves still hash right; what changed is everything after them.
    raw = pyhanko_status(altered, [der(sealer)])
    assert (raw.intact, raw.valid, raw.coverage) == (True, True, SignatureCoverageLevel.ENTIRE_REVISION)
    status = sealing.seal_validate(altered, trust_roots=[sealer.certificate])
    assert (status.present, status.intact, status.valid) == (True, False, False)


def test_a_pdf_sealed_by_another_self_signed_key_is_intact_but_not_trusted(sealer, other_sealer, unsealed):
    foreign = other_sealer.seal(unsealed, location="Samarinda")
    assert other_sealer.describe().name == sealer.describe().name  # same names, different key
    status = sealing.seal_validate(foreign, trust_roots=[sealer.certificate])
    assert (status.present, status.intact, status.trusted, status.valid) == (True, True, False, False)
    assert sealing.seal_validate(foreign, trust_roots=[other_sealer.certificate]).valid


def test_the_signed_attributes_of_a_seal_are_those_pyhanko_builds(sealer):
    import asyncio

    from pyhanko.sign.signers.pdf_cms import Signer

    digest = hashlib.sha256(b"the byte range").digest()
    ours = asyncio.run(sealer._signer.signed_attrs(digest, "sha256", use_pades=True))
    theirs = asyncio.run(Signer.signed_attrs(sealer._signer, digest, "sha256", use_pades=True))
    assert ours.dump() == theirs.dump()
    assert [a["type"].native for a in ours] == ["content_type", "message_digest", "signing_certificate_v2"]
    assert ours[1]["values"][0].native == digest
    # Anything but a plain PAdES seal is pyHanko's own.
    generic_cms = asyncio.run(sealer._signer.signed_attrs(digest, "sha256", use_pades=False))
    assert "cms_algorithm_protection" in [a["type"].native for a in generic_cms]


def test_the_signed_data_of_a_seal_is_the_one_pyhanko_builds(sealer):
    import asyncio

    from pyhanko.sign import signers

    ours = sealer._signer
    plain = signers.SimpleSigner(
        signing_cert=ours.signing_cert, signing_key=ours.signing_key, cert_registry=ours.cert_registry
    )
    digest = hashlib.sha256(b"the byte range").digest()
    attributes = asyncio.run(plain.signed_attrs(digest, "sha256", use_pades=True))
    parts = {
        "digest_algorithm": "sha256",
        "cms_version": "v1",
        "signed_attrs": attributes,
        "signature": ours.sign_raw(attributes.dump(), "sha256"),
        "unsigned_attrs": None,
        "encap_content_info": {"content_type": "data"},  # as pyHanko passes it for a PDF signature
    }
    expected = plain._package_signature(**parts).dump()
    assert ours._package_signature(**parts).dump() == expected
    assert ours._package_signature(**parts).dump() == expected  # and again, from the parts kept
    assert ours._package_signature(**{**parts, "encap_content_info": None}).dump() == expected
    signed_data = ours._package_signature(**parts)["content"]
    assert signed_data["signer_infos"][0]["signature"].native == parts["signature"]
    # With unsigned attributes (a timestamp token's place), built as pyHanko builds it.
    unsigned = asyncio.run(plain.signed_attrs(digest, "sha256", use_pades=False))
    with_unsigned = {**parts, "unsigned_attrs": unsigned}
    assert ours._package_signature(**with_unsigned).dump() == plain._package_signature(**with_unsigned).dump()


def objects_in_last_update(original: bytes, sealed: bytes) -> set[int]:
    """The numbers of the objects the incremental update after ``original`` writes."""
    assert sealed.startswith(original)
    return {int(number) for number in re.findall(rb"(?m)^(\d+) 0 obj\b", sealed[len(original) :])}


def test_the_seal_adds_the_signature_and_leaves_the_rest_of_the_document_as_rendered(sealer, unsealed, sealed):
    before = PdfReader(io.BytesIO(unsealed))
    after = PdfReader(io.BytesIO(sealed))
    (field_reference,) = before.trailer["/Root"]["/AcroForm"]["/Fields"]
    signature_reference = after.trailer["/Root"]["/AcroForm"]["/Fields"][0].get_object().raw_get("/V")
    catalog_number = before.trailer.raw_get("/Root").idnum
    # The field (now holding its signature), the signature, and the catalog, which declares the
    # extension an ECDSA signature needs (ISO 32002); no information, no XMP metadata.
    assert objects_in_last_update(unsealed, sealed) == {
        field_reference.idnum,
        signature_reference.idnum,
        catalog_number,
    }
    update = sealed[len(unsealed) :]
    assert b"/Metadata" not in update and b"/Producer" not in update and b"/ModDate" not in update
    assert dict(after.metadata) == dict(before.metadata)
    catalog_before, catalog_after = before.trailer["/Root"], after.trailer["/Root"]
    assert set(catalog_after) == {*catalog_before, "/Extensions"}
    assert [e["/ExtensionLevel"] for e in catalog_after["/Extensions"]["/ISO_"]] == [32002]
    assert after.pdf_header == "%PDF-2.0" and "/Version" not in catalog_after


def test_a_pdf_without_the_signature_field_gets_one_with_a_stamp_naming_the_seal(sealer):
    plain = render_certificate_pdf(certificate_content(sealed=False))
    assert "/AcroForm" not in PdfReader(io.BytesIO(plain)).trailer["/Root"]
    sealed = sealer.seal(plain, placement=SEAL_PLACEMENT, location="Samarinda")
    assert sealing.seal_validate(sealed, trust_roots=[sealer.certificate]).valid
    _signature, field = signature_dictionary(sealed)
    assert [float(v) for v in field["/Rect"]] == [float(v) for v in SEAL_PLACEMENT.box]
    appearance = field["/AP"]["/N"].get_object().get_data()
    assert b"Disegel secara elektronik oleh" in appearance and b"DEMO \\055 segel elektronik lokal" in appearance


def test_an_unsealed_pdf_has_no_seal(unsealed, sealer):
    assert sealing.seal_validate(unsealed, trust_roots=[sealer.certificate]) == sealing.SealStatus(present=False)


# --- The demo seal and the configuration -----------------------------------------------------


def test_the_demo_seal_is_created_once_and_reused(tmp_path):
    directory = tmp_path / "keys"
    first = sealing.demo_seal_ensure(directory=directory, issuer=ISSUER)
    fingerprint = pkcs12.load_key_and_certificates(
        first.read_bytes(), (directory / sealing.DEMO_PASSPHRASE_FILE).read_bytes()
    )[1].fingerprint(hashes.SHA256())
    modified = first.stat().st_mtime_ns

    second = sealing.demo_seal_ensure(directory=directory, issuer="Someone else")
    assert second == first
    assert second.stat().st_mtime_ns == modified
    key, certificate, _chain = pkcs12.load_key_and_certificates(
        second.read_bytes(), (directory / sealing.DEMO_PASSPHRASE_FILE).read_bytes()
    )
    assert certificate.fingerprint(hashes.SHA256()) == fingerprint
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == sealing.DEMO_SEAL_COMMON_NAME
    assert certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == ISSUER
    for name in (sealing.DEMO_SEAL_FILE, sealing.DEMO_PASSPHRASE_FILE):
        assert stat.S_IMODE(os.stat(directory / name).st_mode) == 0o600
    assert sorted(p.name for p in directory.iterdir() if not p.name.startswith(".")) == sorted(
        [sealing.DEMO_SEAL_FILE, sealing.DEMO_PASSPHRASE_FILE]
    )


def test_without_a_configured_seal_the_demo_seal_is_used_and_cached(settings, tmp_path):
    settings.CERTIFICATES_SIGNING_P12 = ""
    settings.CERTIFICATES_KEY_DIR = str(tmp_path / "keys")
    sealer = sealing.configured_sealer()
    assert sealer.demo is True and sealer.describe().demo is True
    assert sealing.configured_sealer() is sealer
    assert sealing.seal_trust_roots() == [sealer.certificate]
    assert sealing.sealing_config_problem() is None


def test_a_configured_seal_is_loaded_once_and_again_when_the_file_changes(settings, tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    path = tmp_path / "seal.p12"
    seal_file(path, key, b"rahasia")
    settings.CERTIFICATES_SIGNING_P12 = str(path)
    settings.CERTIFICATES_SIGNING_PASSPHRASE = "rahasia"
    first = sealing.configured_sealer()
    assert first.demo is False and sealing.configured_sealer() is first

    other = ec.generate_private_key(ec.SECP256R1())
    before = path.stat().st_mtime_ns
    seal_file(path, other, b"rahasia")
    os.utime(path, ns=(before + 10**9, before + 10**9))  # a coarse file-system clock still sees a change
    second = sealing.configured_sealer()
    assert second is not first
    assert second.certificate.public_key().public_numbers() == other.public_key().public_numbers()


def test_sealing_config_problem_names_what_is_wrong(settings, tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    good = tmp_path / "good.p12"
    seal_file(good, key, b"benar")
    settings.CERTIFICATES_SIGNING_P12 = str(good)

    settings.CERTIFICATES_SIGNING_PASSPHRASE = "benar"
    assert sealing.sealing_config_problem() is None

    settings.CERTIFICATES_SIGNING_PASSPHRASE = "salah"
    problem = sealing.sealing_config_problem()
    assert problem is not None and "CERTIFICATES_SIGNING_PASSPHRASE" in problem and str(good) in problem

    settings.CERTIFICATES_SIGNING_P12 = str(tmp_path / "missing.p12")
    assert "cannot be read" in sealing.sealing_config_problem()

    expired = tmp_path / "expired.p12"
    now = datetime.datetime.now(datetime.UTC)
    old = self_signed(key, not_before=now - datetime.timedelta(days=800), not_after=now - datetime.timedelta(days=1))
    seal_file(expired, key, b"benar", certificate=old)
    settings.CERTIFICATES_SIGNING_P12 = str(expired)
    settings.CERTIFICATES_SIGNING_PASSPHRASE = "benar"
    assert "expired on" in sealing.sealing_config_problem()


# --- Document verification -------------------------------------------------------------------


def test_document_inspect_reads_the_code_and_the_seal_and_the_verdict_follows(fast_bounds, sealer, sealed, unsealed):
    inspection = sealing.document_inspect(sealed, trust_roots=[sealer.certificate])
    assert inspection.sha256 == hashlib.sha256(sealed).hexdigest()
    assert (inspection.code, inspection.code_source, inspection.pages) == ("ABCDEFGHJKMN", "info", 1)
    assert inspection.seal.valid and inspection.seal.signer == sealing.DEMO_SEAL_COMMON_NAME

    stored = hashlib.sha256(sealed).hexdigest()
    assert sealing.document_verdict(inspection, stored) == "genuine"
    assert sealing.document_verdict(inspection, stored.upper()) == "genuine"
    assert sealing.document_verdict(inspection, hashlib.sha256(b"another file").hexdigest()) == "modified"
    assert sealing.document_verdict(inspection, None) == "unknown"

    assert inspection.codes == ("ABCDEFGHJKMN",)  # a seal that holds: the page is not read

    forged = sealed.replace(b"/GCIOCode (ABCD-EFGH-JKMN)", b"/GCIOCode (ABCD-EFGH-JKMP)")
    assert forged != sealed
    forged_inspection = sealing.document_inspect(forged, trust_roots=[sealer.certificate])
    # The altered information names another code; the seal no longer holds, so the page is read
    # too, and the code printed on it is the certificate's own.
    assert (forged_inspection.code, forged_inspection.code_source) == ("ABCDEFGHJKMP", "info")
    assert forged_inspection.codes == ("ABCDEFGHJKMP", "ABCDEFGHJKMN") and not forged_inspection.seal.valid
    assert sealing.document_verdict(forged_inspection, stored) == "modified"

    # Same bytes as issued but not sealed (or sealed by someone else) is not genuine either.
    plain = sealing.document_inspect(unsealed, trust_roots=[sealer.certificate])
    assert plain.seal.present is False
    assert sealing.document_verdict(plain, hashlib.sha256(unsealed).hexdigest()) == "modified"


def test_document_inspect_finds_the_code_on_the_page_when_the_info_key_is_missing(fast_bounds, sealer, unsealed):
    # As the first release wrote it: blanked in place, so every offset stays right.
    first_release = unsealed.replace(b"/GCIOCode (ABCD-EFGH-JKMN)", b" " * 26)
    assert b"GCIOCode" not in first_release
    inspection = sealing.document_inspect(first_release, trust_roots=[sealer.certificate])
    assert (inspection.code, inspection.code_source) == ("ABCDEFGHJKMN", "text")


def test_a_pdf_without_a_code_of_ours_is_unknown(fast_bounds, sealer):
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    output = io.BytesIO()
    writer.write(output)
    inspection = sealing.document_inspect(output.getvalue(), trust_roots=[sealer.certificate])
    assert (inspection.code, inspection.seal.present) == (None, False)
    assert sealing.document_verdict(inspection, None) == "unknown"


def encrypted_pdf(pdf: bytes) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password="", owner_password="pemilik", algorithm="AES-256")
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def minimal_pdf(catalog_extra: bytes = b"", pages_count: bytes = b"1", content: bytes = b"") -> bytes:
    """A PDF built by hand, with a correct cross-reference table, around a hostile part."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count " + pages_count + b" >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>",
        b"<< /Length " + str(len(content)).encode() + b" /Filter /FlateDecode >>\nstream\n" + content + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def xref_stream_bomb() -> bytes:
    """A cross-reference stream that inflates to 1 GiB: the first thing a reader decodes."""
    bomb = zip_bomb(2**30)
    out = bytearray(b"%PDF-1.7\n")
    out += b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    out += b"2 0 obj\n<< /Type /Pages /Kids [] /Count 1 >>\nendobj\n"
    start = len(out)
    out += b"3 0 obj\n<< /Type /XRef /Size 4 /W [1 4 2] /Root 1 0 R /Filter /FlateDecode /Length %d >>\n" % len(bomb)
    out += b"stream\n" + bomb + b"\nendstream\nendobj\n"
    out += b"startxref\n%d\n%%%%EOF\n" % start
    return bytes(out)


def zip_bomb(size: int) -> bytes:
    """A zlib stream that inflates to ``size`` zero bytes (a thousandth of that, built in milliseconds).

    After a full flush the compressor starts afresh, so every further MiB of zeros compresses to
    the same block, which is repeated; the checksum of n zeros is ((n mod 65521) << 16) | 1."""
    chunk, count = bytes(2**20), size // 2**20
    compressor = zlib.compressobj(9)
    first = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    end = compressor.flush()[:-4]
    adler = ((count * len(chunk)) % 65521) << 16 | 1
    return first + block * (count - 1) + end + adler.to_bytes(4, "big")


@pytest.mark.parametrize(
    ("make", "error", "code"),
    [
        (lambda pdf: b"GIF89a not a pdf at all", sealing.DocumentNotPdf, "not_pdf"),
        (lambda pdf: render_certificate_pdf(CONTENT)[:1500], sealing.DocumentNotPdf, "not_pdf"),  # truncated
        (lambda pdf: pdf + b"%" + b"x" * (5 * 1024 * 1024), sealing.DocumentTooLarge, "too_large"),
        (encrypted_pdf, sealing.DocumentEncrypted, "encrypted"),
        (
            lambda pdf: minimal_pdf(catalog_extra=b"/Deep " + b"[" * 100_000 + b"]" * 100_000),
            sealing.DocumentUnreadable,
            "unreadable",
        ),
        (lambda pdf: minimal_pdf(pages_count=b"1000000000"), sealing.DocumentUnreadable, "unreadable"),
        (lambda pdf: minimal_pdf(content=zip_bomb(2**30)), sealing.DocumentUnreadable, "unreadable"),
        (lambda pdf: xref_stream_bomb(), sealing.DocumentUnreadable, "unreadable"),
        (lambda pdf: b"%PDF-1.7\n" + os.urandom(4096) + b"\n%%EOF\n", sealing.DocumentUnreadable, "unreadable"),
    ],
    ids=[
        "not-a-pdf",
        "truncated",
        "over-5-MB",
        "encrypted",
        "deep-nesting",
        "absurd-page-count",
        "content-zip-bomb",
        "xref-stream-bomb",
        "garbage",
    ],
)
def test_document_inspect_refuses_what_it_cannot_check_quickly_and_cleanly(
    fast_bounds, sealer, sealed, make, error, code
):
    data = make(sealed)
    started = time.monotonic()
    with pytest.raises(error) as raised:
        sealing.document_inspect(data, trust_roots=[sealer.certificate])
    assert time.monotonic() - started < 6  # the 5 s bound plus the child's start
    assert isinstance(raised.value, sealing.DocumentRejected) and raised.value.code == code
    for language in ("id", "en"):
        with translation.override(language):
            assert str(raised.value.message)
    assert reader_processes() == []  # the reader is gone, killed or finished


def reader_processes() -> list[str]:
    """The processes the inspection helper has forked and not yet reaped (Linux)."""
    pid = pdf_inspect._inspector.pid
    if pid is None:  # refused before any reading: the helper was never needed
        return []
    return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()


def test_a_file_taking_longer_than_the_time_bound_is_refused_and_its_reader_killed(settings, sealer, sealed):
    settings.CERTIFICATES_INSPECT_TIMEOUT_SECONDS = 0.0001
    with pytest.raises(sealing.DocumentUnreadable):
        sealing.document_inspect(sealed, trust_roots=[sealer.certificate])
    assert reader_processes() == []
    settings.CERTIFICATES_INSPECT_TIMEOUT_SECONDS = 5  # the helper itself is fine and answers the next one
    assert sealing.document_inspect(sealed, trust_roots=[sealer.certificate]).seal.valid


def test_a_reader_cannot_take_more_memory_than_its_bound():
    pid = os.fork()
    if pid == 0:  # what the helper's forked reader does first
        try:
            pdf_inspect._limit_memory(64 * 2**20)
            try:
                bytearray(512 * 2**20)
            except MemoryError:
                os._exit(0)
            os._exit(1)
        finally:
            os._exit(2)
    _pid, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_document_inspect_refuses_what_is_not_bytes(fast_bounds):
    with pytest.raises(sealing.DocumentNotPdf):
        sealing.document_inspect("%PDF-1.7 ... %%EOF")  # type: ignore[arg-type]


def test_the_rejection_messages_are_translated():
    with translation.override("id"):
        assert str(sealing.DocumentTooLarge().message) != "The file is larger than 5 MB."
        assert str(sealing.DocumentNotPdf().message) != "The file is not a PDF."


def test_the_signing_certificate_attribute_is_built_once_and_signed_as_pyhanko_builds_it(sealer, unsealed):
    from asn1crypto import cms
    from pyhanko.sign.general import as_signing_certificate_v2, find_unique_cms_attribute

    kept = sealer._signer.signing_certificate
    first, second = (sealer.seal(unsealed, location="Samarinda") for _ in range(2))
    assert sealer._signer.signing_certificate is kept  # the same one for every seal
    certificate = der(sealer)
    for sealed in (first, second):
        assert pyhanko_status(sealed, [certificate]).valid
        content = PdfFileReader(io.BytesIO(sealed), strict=False).embedded_signatures[0].signed_data
        (signer_info,) = content["signer_infos"]
        attribute = find_unique_cms_attribute(signer_info["signed_attrs"], "signing_certificate_v2")
        assert attribute.dump() == as_signing_certificate_v2(certificate).dump()
        (cert_id,) = attribute["certs"]
        assert cert_id["cert_hash"].native == hashlib.sha256(certificate.dump()).digest()
    assert isinstance(content, cms.SignedData)


def _signer_with_a_chain(tmp_path) -> sealing.LocalSealer:
    """A seal whose certificate a (self-signed) CA issued, the CA in the PKCS#12 file beside it."""
    from cryptography import x509

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = self_signed(ca_key)
    now = datetime.datetime.now(datetime.UTC)
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Segel dinas")]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True
        )  # digital signature, non-repudiation
        .sign(ca_key, hashes.SHA256())
    )
    p12 = tmp_path / "chain.p12"
    p12.write_bytes(
        pkcs12.serialize_key_and_certificates(b"c", key, leaf, [ca], serialization.BestAvailableEncryption(b"pw"))
    )
    return sealing.LocalSealer(p12_path=p12, passphrase="pw")


@pytest.mark.parametrize("embed_roots", [True, False])
def test_the_kept_signed_data_is_the_one_pyhanko_assembles(tmp_path, embed_roots):
    """The signer identifier and certificate set encoded once per signer: the same SignedData as
    pyHanko's own packaging of the same attributes and signature, for a seal with a CA's chain."""
    from asn1crypto import cms
    from pyhanko.sign import signers

    signer = _signer_with_a_chain(tmp_path)._signer
    signer.embed_roots = embed_roots
    signer._certificates_der = None
    attributes = cms.CMSAttributes([cms.CMSAttribute({"type": "content_type", "values": ["data"]})])
    arguments = dict(
        digest_algorithm="sha256",
        cms_version="v1",
        signed_attrs=attributes,
        signature=b"\x30\x06\x02\x01\x01\x02\x01\x02",
        unsigned_attrs=None,
        encap_content_info=None,
    )
    ours = signer._package_signature(**arguments)["content"]
    theirs = signers.SimpleSigner._package_signature(signer, **arguments)["content"]
    for part in ("version", "digest_algorithms", "encap_content_info", "signer_infos"):
        assert ours[part].dump() == theirs[part].dump()
    assert sorted(c.dump() for c in ours["certificates"]) == sorted(c.dump() for c in theirs["certificates"])
    assert len(ours["certificates"]) == (2 if embed_roots else 1)


def test_a_seal_with_a_chain_carries_it_and_validates_against_its_ca(tmp_path, unsealed):
    sealer = _signer_with_a_chain(tmp_path)
    sealed = sealer.seal(unsealed, location="Samarinda")
    (ca,) = sealer.chain
    assert sealing.seal_validate(sealed, trust_roots=[ca]).valid
    content = PdfFileReader(io.BytesIO(sealed), strict=False).embedded_signatures[0].signed_data
    assert {c.chosen.subject.native["common_name"] for c in content["certificates"]} == {"Segel dinas", "Test seal"}


def test_each_thread_seals_on_its_own_kept_event_loop(sealer, unsealed):
    import threading

    sealer.seal(unsealed, location="Samarinda")
    loop = sealing._thread_loop.loop
    sealer.seal(unsealed, location="Samarinda")
    assert sealing._thread_loop.loop is loop and not loop.is_closed()
    seen = []

    def in_a_thread():
        seen.append(
            sealing.seal_validate(sealer.seal(unsealed, location="Samarinda"), trust_roots=[sealer.certificate])
        )
        seen.append(sealing._thread_loop.loop)

    thread = threading.Thread(target=in_a_thread)
    thread.start()
    thread.join()
    assert seen[0].valid and seen[1] is not loop


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork only")
def test_a_forked_worker_seals_on_a_loop_of_its_own_and_leaves_its_parents_alone(sealer, unsealed):
    """A loop made before a fork shares its selector with the parent: the child makes its own and
    never closes the inherited one (which would unregister the parent's wake-up socket)."""
    sealer.seal(unsealed, location="Samarinda")
    parent_loop = sealing._thread_loop.loop
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report, then leave without running the parent's clean-up
        try:
            sealed = sealer.seal(unsealed, location="Samarinda")
            ok = sealing.seal_validate(sealed, trust_roots=[sealer.certificate]).valid
            fresh = sealing._thread_loop.loop is not parent_loop and parent_loop in sealing._inherited_loops
            os.write(write, b"ok" if ok and fresh and not parent_loop.is_closed() else b"no")
        finally:
            os._exit(0)
    os.close(write)
    answer = os.read(read, 2)
    os.waitpid(pid, 0)
    os.close(read)
    assert answer == b"ok"
    sealed = sealer.seal(unsealed, location="Samarinda")  # the parent's loop still runs
    assert sealing._thread_loop.loop is parent_loop
    assert sealing.seal_validate(sealed, trust_roots=[sealer.certificate]).valid
