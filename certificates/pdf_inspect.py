"""Reading a PDF someone uploaded: its seal (pyHanko's validator) and verification code, in a bounded child process."""

# No Django here: uploads are read in processes forked from a helper that imports only this module
# (and whatever the main script imports), so a hostile file never runs inside a web worker.

import dataclasses
import io
import json
import logging
import multiprocessing
import os
import re
import select
import signal
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader
from pypdf.errors import LimitReachedError

from .codes import ALPHABET, code_normalize

logger = logging.getLogger(__name__)

CODE_INFO_KEY = "/GCIOCode"  # written by certificates.pdf
# A certificate is one page; anything claiming more than this is not one of ours and is not walked.
MAX_PAGES = 50
# A genuine code next to its label on page 1 (the first release wrote no /GCIOCode).
_SYMBOL = f"[{ALPHABET}]"
_CODE_IN_TEXT = re.compile(
    rf"(?:verification code|kode verifikasi)[^:]*:\s*({_SYMBOL}{{4}}-{_SYMBOL}{{4}}-{_SYMBOL}{{4}})", re.I
)
# A seal certificate states one of these usages; pyHanko's default demands non-repudiation alone.
_SEAL_KEY_USAGE = KeyUsageConstraints(key_usage={"non_repudiation", "digital_signature"}, match_all_key_usages=False)


@dataclass(frozen=True)
class SealStatus:
    """What a PDF's electronic seal says, as pyHanko's validator found it.

    ``intact``: the signed digest matches, the signature is cryptographically valid and it covers
    the whole file (nothing appended after sealing). ``trusted``: the signer's certificate is one of
    the trust roots given (or chains to one)."""

    present: bool
    intact: bool = False
    trusted: bool = False
    signer: str | None = None  # the certificate subject's common name
    organisation: str | None = None
    signed_at: datetime | None = None  # the timestamp token's time if there is one, else the signer's claim
    timestamped: bool = False
    subfilter: str | None = None
    certificate_sha256: str | None = None

    @property
    def valid(self) -> bool:
        return self.present and self.intact and self.trusted


def seal_status_of(reader: PdfFileReader, trust_roots: Sequence[bytes]) -> SealStatus:
    """The status of the first signature in ``reader`` (our seal is the document's first), checked
    against ``trust_roots`` (DER certificates) without any network access."""
    signatures = reader.embedded_signatures
    if not signatures:
        return SealStatus(present=False)
    signature = signatures[0]
    subfilter = signature.sig_object.get("/SubFilter")
    subfilter = str(subfilter) if subfilter is not None else None
    try:
        claimed = signature.self_reported_timestamp
        roots = [asn1_x509.Certificate.load(der) for der in trust_roots]
        # Checked at the time the seal claims, so a seal certificate that has since expired still
        # vouches for what it sealed; the genuine/modified decision also compares the file's hash
        # with the one recorded at issue.
        context = ValidationContext(
            trust_roots=roots, allow_fetching=False, moment=claimed or datetime.now(UTC), revocation_mode="soft-fail"
        )
        # skip_diff: anything appended after the seal already makes coverage short of the whole
        # file, and the diff analysis is the costliest code to expose to a hostile file.
        status = validate_pdf_signature(signature, context, key_usage_settings=_SEAL_KEY_USAGE, skip_diff=True)
    except Exception:  # noqa: BLE001 - a damaged or unparseable signature is one that does not hold
        logger.info("Seal could not be validated", exc_info=True)
        return SealStatus(present=True, subfilter=subfilter)
    subject = status.signing_cert.subject.native
    timestamp = status.timestamp_validity
    return SealStatus(
        present=True,
        intact=bool(status.intact and status.valid and status.coverage == SignatureCoverageLevel.ENTIRE_FILE),
        trusted=bool(status.trusted),
        signer=subject.get("common_name"),
        organisation=subject.get("organization_name"),
        signed_at=timestamp.timestamp if timestamp is not None else status.signer_reported_dt,
        timestamped=timestamp is not None,
        subfilter=subfilter,
        certificate_sha256=status.signing_cert.sha256.hex(),
    )


def _code_in_text(data: bytes) -> str | None:
    """The verification code printed on page 1, for PDFs without ``/GCIOCode``."""
    reader = PdfReader(io.BytesIO(data))
    if len(reader.pages) == 0:
        return None
    page = reader.pages[0]
    contents = page.get_contents()
    if contents is not None:
        # Decoded first on its own: extract_text treats a stream over pypdf's decompression limit
        # as empty, and a file like that is refused, not read as "no code".
        contents.get_data()
    match = _CODE_IN_TEXT.search(page.extract_text() or "")
    return code_normalize(match.group(1)) if match else None


def inspect_pdf(data: bytes, trust_roots: Sequence[bytes]) -> dict:
    """Read an untrusted PDF: ``{"pages", "code", "code_source", "codes", "seal"}`` or ``{"error": code}``.

    ``code`` is the verification code the file carries: ``/GCIOCode`` in its document information
    (``code_source`` "info") or else the one printed on page 1 ("text"). ``codes`` lists every code
    found, that one first: when the seal does not hold, the page's code is read as well, since
    whoever altered the file may have altered the information's code too.

    Call it through ``inspect_bounded``: parsing itself is not bounded here."""
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    if reader.encrypt_dict is not None:
        return {"error": "encrypted"}
    pages = reader.root["/Pages"].get("/Count", 0)
    if not isinstance(pages, int) or not 0 < pages <= MAX_PAGES:
        return {"error": "unreadable"}
    seal = seal_status_of(reader, trust_roots)
    found: list[tuple[str, str]] = []
    info = reader.trailer_view.get("/Info")
    if info is not None:
        value = info.get_object().get(CODE_INFO_KEY)
        code = code_normalize(str(value)) if value is not None else None
        if code:
            found.append((code, "info"))
    if not found or not seal.valid:
        code = _code_in_text(data)
        if code and code not in (known for known, _source in found):
            found.append((code, "text"))
    code, source = found[0] if found else (None, None)
    return {"pages": pages, "code": code, "code_source": source, "codes": [c for c, _s in found], "seal": seal}


def _current_address_space() -> int | None:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return None


def _limit_memory(memory_bytes: int) -> None:
    import resource

    current = _current_address_space()
    if not memory_bytes or current is None:
        return
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = current + memory_bytes
    resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))


def _to_json(result: dict) -> bytes:
    seal = result.get("seal")
    if seal is not None:
        seal = dataclasses.asdict(seal)
        seal["signed_at"] = seal["signed_at"].isoformat() if seal["signed_at"] else None
    return json.dumps({**result, "seal": seal}).encode()


def _from_json(data: bytes) -> dict:
    result = json.loads(data)
    seal = result.get("seal")
    if seal is not None:
        signed_at = seal["signed_at"]
        result["seal"] = SealStatus(**{**seal, "signed_at": datetime.fromisoformat(signed_at) if signed_at else None})
    return result


def _inspect_in_grandchild(output: int, data: bytes, trust_roots: Sequence[bytes], memory_bytes: int) -> None:
    """In the freshly forked process: bound its memory, read the file, write the result as JSON."""
    try:
        _limit_memory(memory_bytes)
        payload = _to_json(inspect_pdf(data, trust_roots))
    except (MemoryError, RecursionError, LimitReachedError):
        payload = b'{"error": "too_complex"}'
    except Exception:  # noqa: BLE001 - whatever a malformed file makes the parsers raise, it is unreadable
        payload = b'{"error": "unreadable"}'
    view = memoryview(payload)
    while view:
        view = view[os.write(output, view) :]


def _inspect_forked(data: bytes, trust_roots: Sequence[bytes], timeout: float, memory_bytes: int) -> dict:
    """In the helper: fork one process for this file, wait at most ``timeout`` seconds, kill it after."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the grandchild: never returns into the helper's loop
        status = 1
        try:
            os.close(reader)
            _inspect_in_grandchild(writer, data, trust_roots, memory_bytes)
            status = 0
        finally:
            os._exit(status)
    os.close(writer)
    chunks, deadline, finished = [], time.monotonic() + timeout, False
    try:
        while (remaining := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([reader], [], [], remaining)
            if not ready:
                break
            chunk = os.read(reader, 1 << 16)
            if not chunk:
                finished = True
                break
            chunks.append(chunk)
    finally:
        os.close(reader)
        if not finished:
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    if not finished:
        return {"error": "too_complex"}
    try:
        return json.loads(b"".join(chunks))
    except ValueError:  # it died half-way (out of memory)
        return {"error": "too_complex"}


def _helper_main(connection) -> None:
    """The helper's loop: one request at a time, each file read in its own forked process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl+C in the terminal is for the parent
    while True:
        try:
            data, trust_roots, timeout, memory_bytes = connection.recv()
        except (EOFError, OSError):  # the parent is gone
            return
        result = _inspect_forked(data, trust_roots, timeout, memory_bytes)
        connection.send_bytes(json.dumps(result).encode())


class _Inspector:
    """The helper process of this (web) process, started on first use and again if it dies.

    Started with "spawn": a fresh interpreter, not a fork of the web worker (no inherited database
    connections or locks held by other threads). It forks a new process per file, so a file that
    exhausts or crashes its reader costs that process only, and a fork of the small helper takes
    a millisecond or two, where starting Python and importing pyHanko takes most of a second."""

    def __init__(self):
        self._lock = threading.Lock()
        self._process = None
        self._connection = None

    def _start(self) -> None:
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        self._process = context.Process(target=_helper_main, args=(child,), daemon=True, name="pdf-inspect")
        self._process.start()
        child.close()
        self._connection = parent

    def _stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.join()
        if self._connection is not None:
            self._connection.close()
        self._process = self._connection = None

    def run(self, data: bytes, trust_roots: Sequence[bytes], *, timeout: float, memory_bytes: int) -> dict:
        with self._lock:
            for _attempt in range(2):
                if self._process is None or not self._process.is_alive():
                    self._stop()
                    self._start()
                try:
                    self._connection.send((data, tuple(trust_roots), timeout, memory_bytes))
                    # The helper kills its reader at ``timeout``; past that margin it is stuck itself.
                    if self._connection.poll(timeout + 30):
                        return _from_json(self._connection.recv_bytes())
                except (EOFError, OSError):
                    pass
                self._stop()
            return {"error": "too_complex"}

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None and self._process.is_alive() else None


_inspector = _Inspector()


def inspect_bounded(data: bytes, trust_roots: Sequence[bytes], *, timeout: float, memory_mb: int) -> dict:
    """``inspect_pdf`` in a process of its own, killed after ``timeout`` seconds, its address space
    limited to ``memory_mb`` beyond what it starts with; such a file is ``{"error": "too_complex"}``.
    Linux and macOS (``fork``)."""
    return _inspector.run(data, trust_roots, timeout=timeout, memory_bytes=memory_mb * 2**20)
