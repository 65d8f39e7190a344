"""The certificate's PAdES electronic seal (pyHanko): sealing, the demo seal, checking a seal and a returned document.

A seal is a CMS signature in the PDF (``/SubFilter /ETSI.CAdES.detached``) made with the issuing
body's certificate and key, in the visible signature field that ``certificates.pdf`` places in
``SEAL_PLACEMENT`` with its appearance (who seals, and the date), so a PDF reader shows who sealed
the document. Sealing fills in that field's signature and leaves the page as it was drawn: the
incremental update it appends holds the field, the signature and the catalog (which declares the
extension an ECDSA signature needs), and no metadata of its own (``_SignatureOnlyWriter``).

Sealing is not byte-deterministic: the signature carries the signing time (and, with a
time-stamping authority, a token with its own time and nonce), so sealing the same PDF twice gives
two different files, both valid. Whatever is stored first is the certificate's file, and its
SHA-256 is what document verification compares against.

Who holds the key is behind the ``Sealer`` protocol. ``LocalSealer`` signs with a key in a
PKCS#12 file (``CERTIFICATES_SIGNING_P12`` / ``CERTIFICATES_SIGNING_PASSPHRASE``, or the demo seal
that ``demo_seal_ensure`` creates). A remote electronic-seal service (for a government body in
Indonesia, BSrE's seal API) plugs in as another ``Sealer``: its ``seal`` builds the same
``PdfSigner`` on the same writer (``_SignatureOnlyWriter``) with a ``pyhanko.sign.signers.Signer``
subclass whose ``signing_cert`` is the body's certificate (fetched once from the service) and
whose ``async_sign_raw(data, digest_algorithm)`` sends the digest of ``data`` to the service and
returns the raw signature it answers (pyHanko builds the CMS around it); ``describe`` reports that
certificate. Nothing else changes: the field, the metadata and ``seal_validate`` stay as they are.
"""

import asyncio
import fcntl
import hashlib
import logging
import os
import secrets
import threading
from collections.abc import Awaitable, Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Literal, Protocol, TypeVar

from asn1crypto import algos, cms, core, parser, tsp
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from django.utils.translation import gettext_lazy as _
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.layout import AxisAlignment, InnerScaling, Margins, SimpleBoxLayoutRule
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import attributes, fields, signers
from pyhanko.sign.general import SigningError, as_signing_certificate_v2, simple_cms_attribute
from pyhanko.sign.signers.pdf_cms import CAdESSignedAttributeProviderSpec, PdfCMSSignedAttributes
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko.stamp import NoOpStampStyle, TextStampStyle
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from .conf import certificates_setting, key_directory
from .errors import CertificatesError
from .pdf import SEAL_FIELD_LABEL, SEAL_FIELD_NAME, SEAL_PLACEMENT, SealPlacement
from .pdf_inspect import SealStatus, inspect_bounded, seal_status_of

logger = logging.getLogger(__name__)

__all__ = [
    "DEMO_SEAL_COMMON_NAME",
    "DocumentEncrypted",
    "DocumentNotPdf",
    "DocumentRejected",
    "DocumentTooLarge",
    "DocumentUnreadable",
    "Inspection",
    "LocalSealer",
    "SEAL_PLACEMENT",
    "SealPlacement",
    "SealStatus",
    "Sealer",
    "SealerInfo",
    "configured_sealer",
    "demo_seal_ensure",
    "document_inspect",
    "document_verdict",
    "seal_trust_roots",
    "seal_validate",
    "sealing_config_problem",
]

REASON = "Dokumen ini ditandatangani secara elektronik"
FIELD_NAME = SEAL_FIELD_NAME
# ASCII only: pyHanko's built-in stamp font shows no em dash.
DEMO_SEAL_COMMON_NAME = "DEMO - segel elektronik lokal (bukan untuk produksi)"
DEMO_SEAL_FILE = "seal-demo.p12"
DEMO_PASSPHRASE_FILE = "seal-demo.passphrase"
DEMO_SEAL_YEARS = 10
MAX_DOCUMENT_BYTES = 5 * 1024 * 1024

# The visible seal of a PDF that does not bring its own (a certificate does: see
# ``certificates.pdf``): text only (pyHanko's built-in font), shrunk to fit the reserved rectangle's
# width, left-aligned (centring a box shrunk to the exact width makes pyHanko log a rounding
# warning on every seal) and centred vertically.
_STAMP_STYLE = TextStampStyle(
    stamp_text="Disegel secara elektronik oleh\n%(signer)s\n%(ts)s",
    timestamp_format="%d-%m-%Y %H:%M:%S %Z",
    border_width=1,
    background=None,
    inner_content_layout=SimpleBoxLayoutRule(
        x_align=AxisAlignment.ALIGN_MIN,
        y_align=AxisAlignment.ALIGN_MID,
        margins=Margins.uniform(4),
        inner_content_scaling=InnerScaling.SHRINK_TO_FIT,
    ),
)


@dataclass(frozen=True)
class SealerInfo:
    """Who seals: the seal certificate's subject, for verification pages and logs."""

    name: str  # the subject's common name
    organisation: str | None
    subject: str  # RFC 4514
    certificate_sha256: str
    valid_until: datetime
    demo: bool


T = TypeVar("T")


class _ThreadLoop(threading.local):
    """One event loop per thread (and per process: a forked worker makes its own), kept for its life.

    pyHanko's synchronous ``sign_pdf`` is ``asyncio.run`` around ``async_sign_pdf``: a new loop for
    every seal (its selector, its wake-up socket pair, then the shutdown of an executor it never
    started), a tenth of a seal's time. Nothing of a seal outlives it on the loop: pyHanko opens and
    closes a timestamping authority's HTTP session within the request."""

    loop: asyncio.AbstractEventLoop | None = None
    pid: int | None = None

    def run(self, coroutine):
        if self.pid != os.getpid() and self.loop is not None:
            # Made before a fork: its selector and wake-up sockets are shared with the parent, and
            # closing it here (as garbage collection would) would unregister them there too.
            _inherited_loops.append(self.loop)
            self.loop = None
        if self.loop is None or self.loop.is_closed():
            self.loop, self.pid = asyncio.new_event_loop(), os.getpid()
        return self.loop.run_until_complete(coroutine)


_inherited_loops: list[asyncio.AbstractEventLoop] = []


_thread_loop = _ThreadLoop()


def _sealing_run(make_coroutine: Callable[[], Awaitable[T]]) -> T:
    """Run the coroutine ``make_coroutine()`` to its end on this thread's kept loop. Where a loop is
    already running in this thread (an asynchronous host, or a test driving a browser through
    Playwright), none can start here: a short-lived one in a worker thread runs it instead.

    In place of pyHanko's ``sign_pdf``, which also releases the HTTP sessions of a validation
    context: a seal sets none (no revocation data is fetched at signing)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _thread_loop.run(make_coroutine())
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="seal") as pool:
        return pool.submit(lambda: asyncio.run(make_coroutine())).result()


class Sealer(Protocol):
    """Puts the issuing body's electronic seal on a PDF."""

    def seal(self, pdf_bytes: bytes, *, placement: SealPlacement = SEAL_PLACEMENT, location: str) -> bytes:
        """The sealed PDF: ``pdf_bytes`` plus an incremental update holding the visible signature."""
        ...

    def describe(self) -> SealerInfo: ...


class _KeptSigningCertificate(attributes.SigningCertificateV2Provider):
    """The signing-certificate-v2 attribute (RFC 5035) that PAdES requires, built once per signer.

    pyHanko builds it afresh for every signature as an asn1crypto structure made from Python
    values, and asn1crypto re-encodes such a structure recursively each time it is serialised or
    copied (three times per seal): about 7 ms of a 10 ms seal. Its value depends on the
    certificate alone, so it is encoded once here and each seal gets a parsed copy of that DER,
    which asn1crypto writes out as it is. Same bytes in the signature as pyHanko's own."""

    def __init__(self, signing_cert: asn1_x509.Certificate):
        super().__init__(signing_cert)
        self.der = as_signing_certificate_v2(signing_cert).dump()

    async def build_attr_value(self, dry_run=False) -> tsp.SigningCertificateV2:
        return tsp.SigningCertificateV2.load(self.der)


class _KeptAttributesSpec(CAdESSignedAttributeProviderSpec):
    """pyHanko's PAdES signed attributes, with the signing-certificate attribute built once."""

    def __init__(self, spec: CAdESSignedAttributeProviderSpec, signing_certificate: _KeptSigningCertificate):
        super().__init__(
            attr_settings=spec.attr_settings,
            signing_cert=spec.signing_cert,
            is_pades=spec.is_pades,
            timestamper=spec.timestamper,
        )
        self.signing_certificate = signing_certificate

    def signed_attr_providers(self, data_digest: bytes, digest_algorithm: str):
        for provider in super().signed_attr_providers(data_digest, digest_algorithm):
            if type(provider) is attributes.SigningCertificateV2Provider:
                yield self.signing_certificate
            else:
                yield provider


class _KeptKeySigner(signers.SimpleSigner):
    """pyHanko's ``SimpleSigner`` with the private key and the signing-certificate attribute kept.

    ``SimpleSigner.sign_raw`` parses the key from DER on every signature; for an RSA key that
    parse (with its consistency checks) costs tens of milliseconds, more than the whole seal. The
    signing-certificate attribute: see ``_KeptSigningCertificate``."""

    def __init__(self, *, private_key, certificate: x509.Certificate, chain: Iterable[x509.Certificate]):
        store = SimpleCertificateStore()
        store.register_multiple([asn1_x509.Certificate.load(_certificate_der(c)) for c in chain])
        pkcs8 = private_key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        super().__init__(
            signing_cert=asn1_x509.Certificate.load(_certificate_der(certificate)),
            signing_key=asn1_keys.PrivateKeyInfo.load(pkcs8),
            cert_registry=store,
        )
        self._private_key = private_key
        self.signing_certificate = _KeptSigningCertificate(self.signing_cert)
        # The parts of the SignedData that depend on the certificates alone, encoded once (see
        # ``_package_signature``).
        self._sid_der = cms.SignerIdentifier(
            {
                "issuer_and_serial_number": cms.IssuerAndSerialNumber(
                    {"issuer": self.signing_cert.issuer, "serial_number": self.signing_cert.serial_number}
                )
            }
        ).dump()
        self._certificates_der: bytes | None = None
        self._fixed_der: dict[tuple, tuple[bytes, bytes, bytes, bytes]] = {}
        # The signed attributes of a PAdES seal other than the document's digest (see ``signed_attrs``).
        self._content_type_attr_der = simple_cms_attribute("content_type", "data").dump()
        self._message_digest_type_der = cms.CMSAttributeType("message_digest").dump()
        self._signing_certificate_attr_der = cms.CMSAttribute(
            {"type": "signing_certificate_v2", "values": [tsp.SigningCertificateV2.load(self.signing_certificate.der)]}
        ).dump()

    async def signed_attrs(
        self,
        data_digest: bytes,
        digest_algorithm: str,
        attr_settings: PdfCMSSignedAttributes | None = None,
        content_type="data",
        use_pades=False,
        timestamper=None,
        dry_run=False,
        is_pdf_sig=True,
    ) -> cms.CMSAttributes:
        """pyHanko's signed attributes; for a PAdES seal with no further attributes (what
        ``LocalSealer`` makes: content type, message digest, signing certificate, in pyHanko's
        order) put together from the two that never change, encoded once, and the digest. The
        same bytes as pyHanko's (a test compares them)."""
        settings = attr_settings or PdfCMSSignedAttributes()
        spec = self._signed_attr_provider_spec(
            settings, timestamper=timestamper, use_cades=use_pades, is_pdf_sig=is_pdf_sig
        )
        if (
            content_type != "data"
            or not isinstance(spec, _KeptAttributesSpec)
            or not spec.is_pades
            or settings.cades_signed_attrs is not None
        ):
            return await super().signed_attrs(
                data_digest,
                digest_algorithm,
                attr_settings=attr_settings,
                content_type=content_type,
                use_pades=use_pades,
                timestamper=timestamper,
                dry_run=dry_run,
                is_pdf_sig=is_pdf_sig,
            )
        # SET OF Attribute; the message digest: SEQUENCE { type, SET { OCTET STRING } }. Parsed
        # from its encoding, the structure writes those bytes again as they are when pyHanko
        # encodes it (to be signed, then in the SignedData).
        digest_attr = _emit_sequence(
            self._message_digest_type_der + parser.emit(0, 1, 17, core.OctetString(data_digest).dump())
        )
        return cms.CMSAttributes.load(
            parser.emit(0, 1, 17, self._content_type_attr_der + digest_attr + self._signing_certificate_attr_der)
        )

    def _certificate_set(self) -> cms.CertificateSet:
        """The certificates the SignedData carries, chosen as pyHanko chooses them (the registry's,
        roots only when ``embed_roots``, and the signing certificate), encoded on first use."""
        if self._certificates_der is None:
            chosen = [c for c in self.cert_registry if self.embed_roots or c.self_signed == "no"]
            if all(c.dump() != self.signing_cert.dump() for c in chosen):
                chosen.append(self.signing_cert)
            self._certificates_der = cms.CertificateSet(
                [cms.CertificateChoices(name="certificate", value=c) for c in chosen]
            ).dump()
        return cms.CertificateSet.load(self._certificates_der)

    def signer_info(self, digest_algorithm: str, signed_attrs, signature):
        if digest_algorithm == "shake256":
            return super().signer_info(digest_algorithm, signed_attrs, signature)
        return cms.SignerInfo(
            {
                "version": "v1",
                "sid": cms.SignerIdentifier.load(self._sid_der),
                "digest_algorithm": algos.DigestAlgorithm({"algorithm": digest_algorithm}),
                "signature_algorithm": self.get_signature_mechanism_for_digest(digest_algorithm),
                "signed_attrs": signed_attrs,
                "signature": signature,
            }
        )

    def _package_signature(
        self, *, digest_algorithm, cms_version, signed_attrs, signature, unsigned_attrs, encap_content_info
    ) -> cms.ContentInfo:
        """pyHanko's SignedData in a ContentInfo, the same bytes. A seal's (detached, no unsigned
        attributes) is put together from encoded parts (``_content_info_der``) and parsed back;
        any other is built as pyHanko builds it, but with the signer's identifier and the
        certificate set parsed from DER kept since the first seal, where pyHanko copies them into
        new asn1crypto structures that asn1crypto encodes afresh when the signature is written."""
        detached = encap_content_info is None or encap_content_info == {"content_type": "data"}
        if detached and unsigned_attrs is None and not self.attribute_certs and digest_algorithm != "shake256":
            return cms.ContentInfo.load(self._content_info_der(digest_algorithm, cms_version, signed_attrs, signature))
        if self.attribute_certs:
            return super()._package_signature(
                digest_algorithm=digest_algorithm,
                cms_version=cms_version,
                signed_attrs=signed_attrs,
                signature=signature,
                unsigned_attrs=unsigned_attrs,
                encap_content_info=encap_content_info,
            )
        signer_info = self.signer_info(digest_algorithm, signed_attrs, signature)
        if unsigned_attrs is not None:
            signer_info["unsigned_attrs"] = unsigned_attrs
        signed_data = cms.SignedData(
            {
                "version": cms_version,
                "digest_algorithms": cms.DigestAlgorithms((signer_info["digest_algorithm"],)),
                "encap_content_info": encap_content_info or {"content_type": "data"},
                "certificates": self._certificate_set(),
                "signer_infos": [signer_info],
            }
        )
        return cms.ContentInfo({"content_type": cms.ContentType("signed_data"), "content": signed_data})

    def _content_info_der(
        self, digest_algorithm: str, cms_version, signed_attrs: cms.CMSAttributes, signature: bytes
    ) -> bytes:
        """The DER of the ContentInfo that ``_package_signature`` builds for a seal without unsigned
        attributes (no timestamp), put together from its parts' encodings with asn1crypto's encoder
        (``parser.emit``): the parts that depend on the certificate and the algorithms alone are
        encoded once, the signed attributes and the signature as they are. asn1crypto builds the
        same bytes from Python values in a third of a seal, re-encoding them several times over;
        a test compares the two."""
        fixed = self._fixed_der.get((digest_algorithm, cms_version))
        if fixed is None:
            digest = algos.DigestAlgorithm({"algorithm": digest_algorithm})
            fixed = self._fixed_der[(digest_algorithm, cms_version)] = (
                cms.CMSVersion("v1").dump() + self._sid_der + digest.dump(),
                self.get_signature_mechanism_for_digest(digest_algorithm).dump(),
                cms.CMSVersion(cms_version).dump()
                + cms.DigestAlgorithms([digest]).dump()
                + cms.EncapsulatedContentInfo({"content_type": "data"}).dump()
                + parser.emit(2, 1, 0, self._certificate_set().contents),  # [0] IMPLICIT SET OF certificates
                cms.ContentType("signed_data").dump(),
            )
        signer_head, signature_algorithm, signed_data_head, content_type = fixed
        signer_info = _emit_sequence(
            signer_head
            + parser.emit(2, 1, 0, signed_attrs.contents)  # [0] IMPLICIT SET OF attributes
            + signature_algorithm
            + core.OctetString(signature).dump()
        )
        signed_data = _emit_sequence(signed_data_head + parser.emit(0, 1, 17, signer_info))  # SET OF one SignerInfo
        return _emit_sequence(content_type + parser.emit(2, 1, 0, signed_data))  # [0] EXPLICIT content

    async def async_sign_prescribed_attributes(self, digest_algorithm: str, signed_attrs: cms.CMSAttributes, **kwargs):
        """pyHanko's, with the signed attributes encoded once and parsed back: asn1crypto encodes a
        structure built from Python values afresh every time it is written (here twice: to be
        signed, then in the SignedData), a parsed one writes the bytes it was parsed from."""
        signed_attrs = cms.CMSAttributes.load(signed_attrs.dump())
        return await super().async_sign_prescribed_attributes(digest_algorithm, signed_attrs, **kwargs)

    def _signed_attr_provider_spec(self, attr_settings, timestamper=None, use_cades=False, is_pdf_sig=True):
        spec = super()._signed_attr_provider_spec(
            attr_settings, timestamper=timestamper, use_cades=use_cades, is_pdf_sig=is_pdf_sig
        )
        if type(spec) is CAdESSignedAttributeProviderSpec:
            return _KeptAttributesSpec(spec, self.signing_certificate)
        return spec

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        key = self._private_key
        if mechanism == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPrivateKey):
            return key.sign(data, padding.PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))
        if mechanism == "ecdsa" and isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(data, ec.ECDSA(get_pyca_cryptography_hash(digest_algorithm)))
        if mechanism == "ed25519" and isinstance(key, ed25519.Ed25519PrivateKey):
            return key.sign(data)
        return super().sign_raw(data, digest_algorithm)


def _subject_attribute(name: x509.Name, oid) -> str | None:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else None


class LocalSealer:
    """Seals with a key held in a PKCS#12 file; built once per process (see ``configured_sealer``)."""

    def __init__(self, *, p12_path: Path, passphrase: str, tsa_url: str = "", demo: bool = False):
        key, certificate, chain = pkcs12.load_key_and_certificates(
            Path(p12_path).read_bytes(), passphrase.encode() if passphrase else None
        )
        if key is None or certificate is None:
            raise ValueError("The PKCS#12 file holds no private key with its certificate.")
        self.certificate = certificate
        self.chain = list(chain)
        self.demo = demo
        self._signer = _KeptKeySigner(private_key=key, certificate=certificate, chain=self.chain)
        self._timestamper = HTTPTimeStamper(tsa_url, timeout=10) if tsa_url else None
        # Room for the CMS in /Contents (hex, so twice its DER size): set here instead of letting
        # pyHanko estimate it, which costs a second, throw-away signature per seal. A timestamp
        # token brings the TSA's certificates, hence the generous margin with a TSA.
        der = sum(len(c.public_bytes(serialization.Encoding.DER)) for c in [certificate, *self.chain])
        self._reserve = 2 * (der + 2048 + (16384 if tsa_url else 0))
        self._info: SealerInfo | None = None

    def describe(self) -> SealerInfo:
        """What the seal certificate says (read once: the sealer does not change)."""
        if self._info is None:
            self._info = self._describe()
        return self._info

    def _describe(self) -> SealerInfo:
        subject = self.certificate.subject
        return SealerInfo(
            name=_subject_attribute(subject, NameOID.COMMON_NAME) or subject.rfc4514_string(),
            organisation=_subject_attribute(subject, NameOID.ORGANIZATION_NAME),
            subject=subject.rfc4514_string(),
            certificate_sha256=self.certificate.fingerprint(hashes.SHA256()).hex(),
            valid_until=self.certificate.not_valid_after_utc,
            demo=self.demo,
        )

    def seal(self, pdf_bytes: bytes, *, placement: SealPlacement = SEAL_PLACEMENT, location: str) -> bytes:
        """The sealed PDF (an incremental update: the original bytes stay as they were, in front).
        Not deterministic (signing time); with a TSA configured, one HTTP request to it.

        A PDF with an empty signature field named ``FIELD_NAME`` (a certificate rendered for
        sealing) has that field signed, its appearance kept; into any other a visible field is
        added in ``placement``, with a text stamp naming the seal and the signing time."""
        metadata = signers.PdfSignatureMetadata(
            field_name=FIELD_NAME,
            reason=REASON,
            location=location,
            subfilter=fields.SigSeedSubFilter.PADES,
            md_algorithm="sha256",
        )

        def sign(reserve: int | None):
            writer = _SignatureOnlyWriter(BytesIO(pdf_bytes), strict=False)
            if _has_empty_field(writer, FIELD_NAME):
                style, field = NoOpStampStyle(), None
            else:
                style = _STAMP_STYLE
                field = fields.SigFieldSpec(
                    sig_field_name=FIELD_NAME,
                    on_page=placement.page,
                    box=placement.box,
                    readable_field_name=SEAL_FIELD_LABEL,
                )
            pdf_signer = signers.PdfSigner(
                metadata, signer=self._signer, timestamper=self._timestamper, stamp_style=style, new_field_spec=field
            )
            return pdf_signer.async_sign_pdf(writer, bytes_reserved=reserve)

        try:
            output = _sealing_run(lambda: sign(self._reserve))
        except SigningError as exc:
            if "larger than expected" not in str(exc):
                raise
            # The signature outgrew the room set aside (an unusually large timestamp token): let
            # pyHanko measure it from now on.
            logger.warning("Seal larger than %s bytes reserved; letting pyHanko size it", self._reserve)
            self._reserve = None
            output = _sealing_run(lambda: sign(None))
        return output.getvalue()


class _SignatureOnlyWriter(IncrementalPdfFileWriter):
    """pyHanko's incremental writer, adding the signature and nothing else.

    By default the writer also records itself in the document's metadata when it writes: a
    /Producer and /ModDate in the document information and, the output being PDF 2.0 (an ECDSA
    seal makes it so), an XMP metadata stream, which writes the catalog again. A certificate's
    document information is part of what was issued; the seal's own time is in its signature
    (/M) and its signed attributes. Tested: the update a seal appends holds the signature field,
    the signature and the catalog (declaring the ECDSA extension), and the document information
    stays as rendered."""

    def _update_meta(self):
        pass


def _has_empty_field(writer: IncrementalPdfFileWriter, name: str) -> bool:
    """Whether the PDF's form has a signature field ``name`` that holds no signature yet."""
    form = writer.root.get("/AcroForm")
    for reference in form.get_object().get("/Fields", ()) if form is not None else ():
        field = reference.get_object()
        if field.get("/T") == name and field.get("/FT") == "/Sig":
            return "/V" not in field
    return False


def _emit_sequence(contents: bytes) -> bytes:
    """A DER SEQUENCE (universal, constructed, tag 16) of ``contents``."""
    return parser.emit(0, 1, 16, contents)


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` readable by this user only, atomically (a temporary file renamed)."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


class _DirectoryLock:
    """An exclusive ``flock`` on a file in ``directory``: processes starting together create a key once."""

    def __init__(self, directory: Path, name: str):
        self.path = directory / name

    def __enter__(self):
        self.handle = open(self.path, "a")
        fcntl.flock(self.handle, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.handle.close()


def key_directory_ensure(directory: Path) -> Path:
    directory = Path(directory)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return directory


def demo_seal_ensure(*, directory: Path, issuer: str | None = None) -> Path:
    """The demo seal's PKCS#12 file in ``directory``, created on first call and reused after.

    Creates (once, under a file lock, so concurrent starts agree) a self-signed EC P-256
    certificate named as a demo (CN ``DEMO_SEAL_COMMON_NAME``, O = ``issuer``, default the
    ``ISSUER`` setting) and its key as ``seal-demo.p12``, encrypted with a random passphrase kept
    beside it in ``seal-demo.passphrase``; both files mode 0600. Idempotent."""
    directory = key_directory_ensure(directory)
    p12_path, passphrase_path = directory / DEMO_SEAL_FILE, directory / DEMO_PASSPHRASE_FILE
    with _DirectoryLock(directory, ".seal-demo.lock"):
        if p12_path.exists() and passphrase_path.exists():
            return p12_path
        issuer = issuer or certificates_setting("ISSUER")
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, DEMO_SEAL_COMMON_NAME),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, issuer[:64]),
                x509.NameAttribute(NameOID.COUNTRY_NAME, "ID"),
            ]
        )
        now = datetime.now(UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(days=365 * DEMO_SEAL_YEARS))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=True,  # non-repudiation: what a seal asserts
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        passphrase = secrets.token_urlsafe(32)
        p12 = pkcs12.serialize_key_and_certificates(
            b"demo-seal", key, certificate, None, serialization.BestAvailableEncryption(passphrase.encode())
        )
        # Passphrase first: a PKCS#12 file is never there without the passphrase that opens it.
        _write_private(passphrase_path, passphrase.encode())
        _write_private(p12_path, p12)
        logger.info("Created the demo seal %s", p12_path)
        return p12_path


def _demo_passphrase(p12_path: Path) -> str:
    return (p12_path.parent / DEMO_PASSPHRASE_FILE).read_text().strip()


_sealer_lock = threading.Lock()
_sealer_cache: dict[tuple, LocalSealer] = {}


def _seal_source() -> tuple[Path, str, bool]:
    """(PKCS#12 path, passphrase, is demo) from the settings, creating the demo seal if none is set."""
    configured = certificates_setting("SIGNING_P12")
    if configured:
        return Path(configured), certificates_setting("SIGNING_PASSPHRASE") or "", False
    p12_path = demo_seal_ensure(directory=key_directory())
    return p12_path, _demo_passphrase(p12_path), True


def configured_sealer() -> LocalSealer:
    """The sealer the settings describe, loaded once per process and again only when the PKCS#12
    file, its passphrase or the TSA changes. Creates the demo seal when none is configured."""
    p12_path, passphrase, demo = _seal_source()
    tsa_url = certificates_setting("TSA_URL") or ""
    key = (
        str(p12_path.resolve()),
        p12_path.stat().st_mtime_ns,
        hashlib.sha256(passphrase.encode()).hexdigest(),
        tsa_url,
    )
    with _sealer_lock:
        sealer = _sealer_cache.get(key)
        if sealer is None:
            sealer = LocalSealer(p12_path=p12_path, passphrase=passphrase, tsa_url=tsa_url, demo=demo)
            _sealer_cache.clear()
            _sealer_cache[key] = sealer
        return sealer


def sealing_config_problem() -> str | None:
    """Why the configured seal cannot seal (for a system check), or None when it can.

    Unset ``SIGNING_P12`` is no problem here (the demo seal is used); a configured file that is
    missing or unreadable, a wrong passphrase, no key in it, or a certificate that has expired or is
    not yet valid is. Reads the file; writes nothing."""
    configured = certificates_setting("SIGNING_P12")
    if not configured:
        return None
    path = Path(configured)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return f"CERTIFICATES_SIGNING_P12 ({path}) cannot be read: {exc.strerror or exc}."
    passphrase = certificates_setting("SIGNING_PASSPHRASE") or ""
    try:
        key, certificate, _chain = pkcs12.load_key_and_certificates(data, passphrase.encode() if passphrase else None)
    except ValueError:
        return (
            f"CERTIFICATES_SIGNING_P12 ({path}) could not be opened: wrong CERTIFICATES_SIGNING_PASSPHRASE, "
            "or not a PKCS#12 file."
        )
    if key is None or certificate is None:
        return f"CERTIFICATES_SIGNING_P12 ({path}) holds no private key with its certificate."
    now = datetime.now(UTC)
    if certificate.not_valid_after_utc <= now:
        return f"The seal certificate in {path} expired on {certificate.not_valid_after_utc:%Y-%m-%d}."
    if certificate.not_valid_before_utc > now:
        return f"The seal certificate in {path} is not valid before {certificate.not_valid_before_utc:%Y-%m-%d}."
    return None


def _certificate_der(certificate) -> bytes:
    if isinstance(certificate, bytes):
        return certificate
    if isinstance(certificate, x509.Certificate):
        return certificate.public_bytes(serialization.Encoding.DER)
    if isinstance(certificate, asn1_x509.Certificate):
        return certificate.dump()
    raise TypeError(f"Not a certificate: {type(certificate).__name__}")


def _load_certificates(path: Path) -> list[x509.Certificate]:
    data = Path(path).read_bytes()
    if b"-----BEGIN" in data:
        return x509.load_pem_x509_certificates(data)
    return [x509.load_der_x509_certificate(data)]


def seal_trust_roots() -> list[x509.Certificate]:
    """The certificates a seal of ours is checked against: the current seal's own certificate
    (pinned, not its CA: a CA's other customers are not us) and ``SEAL_PREVIOUS_CERTIFICATES``.
    Like ``configured_sealer``, creates the demo seal when none is configured."""
    roots = [configured_sealer().certificate]
    for path in certificates_setting("SEAL_PREVIOUS_CERTIFICATES") or ():
        roots.extend(_load_certificates(Path(path)))
    return roots


def seal_validate(pdf_bytes: bytes, *, trust_roots: Sequence) -> SealStatus:
    """The seal's status in a PDF of ours (pyHanko's validator, no network), against ``trust_roots``
    (``cryptography`` or asn1crypto certificates, or DER bytes). For uploads use ``document_inspect``,
    which bounds the parsing."""
    reader = PdfFileReader(BytesIO(pdf_bytes), strict=False)
    return seal_status_of(reader, [_certificate_der(c) for c in trust_roots])


# --- Document verification -------------------------------------------------------------------


class DocumentRejected(CertificatesError):
    """An uploaded file that document verification will not read (the API answers 400)."""


class DocumentNotPdf(DocumentRejected):
    code = "not_pdf"
    message = _("The file is not a PDF.")


class DocumentTooLarge(DocumentRejected):
    code = "too_large"
    message = _("The file is larger than 5 MB.")


class DocumentEncrypted(DocumentRejected):
    code = "encrypted"
    message = _("The PDF is password-protected; upload the certificate as you received it.")


class DocumentUnreadable(DocumentRejected):
    code = "unreadable"
    message = _("The PDF is damaged or too complex to check.")


_REJECTIONS = {e.code: e for e in (DocumentNotPdf, DocumentEncrypted, DocumentUnreadable)}


@dataclass(frozen=True)
class Inspection:
    """What document verification read from an uploaded PDF (the decision inputs)."""

    sha256: str
    code: str | None  # the verification code it carries, stored form (no dashes)
    code_source: Literal["info", "text"] | None  # /GCIOCode, or the text of page 1
    seal: SealStatus
    pages: int
    # Every code found, ``code`` first; with a seal that does not hold, the page's as well.
    codes: tuple[str, ...]


def document_inspect(
    data: bytes, *, max_bytes: int = MAX_DOCUMENT_BYTES, trust_roots: Sequence | None = None
) -> Inspection:
    """Read a PDF someone uploaded for verification.

    Refuses, with a ``DocumentRejected`` (``code`` ``not_pdf``, ``too_large``, ``encrypted`` or
    ``unreadable``), anything but a readable, unencrypted PDF of at most ``max_bytes``; the parsing
    runs in a separate process bounded in time (``INSPECT_TIMEOUT_SECONDS``) and memory
    (``INSPECT_MEMORY_MB``), so a PDF bomb is ``unreadable``, not a stuck or dead web worker. Raises
    nothing else. ``trust_roots`` default to ``seal_trust_roots()``. Writes nothing."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise DocumentNotPdf()
    data = bytes(data)
    if len(data) > max_bytes:
        raise DocumentTooLarge()
    # A PDF starts with its header (readers tolerate a little junk before it) and ends with %%EOF.
    if b"%PDF-" not in data[:1024] or b"%%EOF" not in data[-2048:]:
        raise DocumentNotPdf()
    roots = [_certificate_der(c) for c in (seal_trust_roots() if trust_roots is None else trust_roots)]
    result = inspect_bounded(
        data,
        roots,
        timeout=float(certificates_setting("INSPECT_TIMEOUT_SECONDS")),
        memory_mb=int(certificates_setting("INSPECT_MEMORY_MB")),
    )
    error = result.get("error")
    if error:
        raise _REJECTIONS.get(error, DocumentUnreadable)()
    return Inspection(
        sha256=hashlib.sha256(data).hexdigest(),
        code=result["code"],
        code_source=result["code_source"],
        seal=result["seal"],
        pages=result["pages"],
        codes=tuple(result["codes"]),
    )


def document_verdict(
    inspection: Inspection, stored_sha256_for_code: str | None
) -> Literal["genuine", "modified", "unknown"]:
    """Genuine: the very file issued under the code it carries, its seal valid. Modified: it carries
    a code of ours but its bytes differ or its seal no longer holds. Unknown: no code of ours.
    ``stored_sha256_for_code`` is the SHA-256 recorded for ``inspection.code`` (None: no such code)."""
    if inspection.code is None or not stored_sha256_for_code:
        return "unknown"
    if inspection.sha256 == stored_sha256_for_code.lower() and inspection.seal.valid:
        return "genuine"
    return "modified"
