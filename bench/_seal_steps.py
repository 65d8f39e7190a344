"""Where one seal's time goes: pyHanko's steps timed by wrapping the functions that do them.

Wall-clock timers around a handful of calls (a few microseconds each), not a sampling profiler,
so the figures add up to the seal as measured without them."""

import inspect
import time
from collections import defaultdict
from contextlib import contextmanager

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.signers import pdf_signer

# (owner, function, label); nested ones are taken out of their caller's figure below.
TIMED = (
    (IncrementalPdfFileWriter, "__init__", "read"),
    (pdf_signer.PdfSigner, "async_sign_pdf", "async_sign_pdf"),
    (pdf_signer.PdfSigner, "init_signing_session", "field"),
    (pdf_signer.PdfSigningSession, "prepare_tbs_document", "appearance"),
    (pdf_signer.PdfTBSDocument, "digest_tbs_document", "write"),
    (pdf_signer.PdfTBSDocument, "perform_signature", "cms"),
)
# Timed on the sealer's own signer class, which keeps parts of them (certificates.sealing).
ON_SIGNER = (
    ("signed_attrs", "attributes"),
    ("async_sign_prescribed_attributes", "prescribed"),
    ("sign_raw", "raw"),
    ("_package_signature", "package"),
)


def _timed(function, label, spent):
    if inspect.iscoroutinefunction(function):

        async def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return await function(*args, **kwargs)
            finally:
                spent[label] += time.perf_counter() - started

    else:

        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[label] += time.perf_counter() - started

    return wrapper


@contextmanager
def _timing(spent, raw_signer_class):
    # Imported here: run from bench/, "certificates" is bench/certificates.py until Django is set up.
    from certificates import sealing

    timed = [*TIMED, *((raw_signer_class, name, label) for name, label in ON_SIGNER)]
    timed.append((sealing._ThreadLoop, "run", "loop"))
    saved = [(owner, name, owner.__dict__[name]) for owner, name, _label in timed]
    try:
        for owner, name, label in timed:
            setattr(owner, name, _timed(owner.__dict__[name], label, spent))
        yield
    finally:
        for owner, name, function in saved:
            setattr(owner, name, function)


def seal_steps(seal, pdfs: list[bytes]) -> dict[str, float]:
    """ms per seal in each step, over one ``seal(pdf)`` per PDF; ``seal`` is a ``LocalSealer``'s."""
    spent: dict[str, float] = defaultdict(float)
    with _timing(spent, type(seal.__self__._signer)):
        started = time.perf_counter()
        for pdf in pdfs:
            seal(pdf, location="Samarinda")
        total = time.perf_counter() - started
    ms = {label: 1000 * seconds / len(pdfs) for label, seconds in spent.items()}
    steps = {
        "read the PDF (pyHanko's reader, xref and trailer)": ms["read"],
        "signature field (the page's own, found)": ms["field"],
        "visible appearance (drawn with the page: kept)": ms["appearance"],
        "write the incremental update, hash the byte range": ms["write"],
        "CMS: signed attributes built": ms["attributes"],
        "CMS: signed attributes serialised, to be signed": ms["prescribed"] - ms["raw"] - ms["package"],
        "CMS: raw signature (ECDSA P-256)": ms["raw"],
        "CMS: SignedData assembly (asn1crypto)": ms["package"],
        "CMS: written into /Contents": ms["cms"] - ms["attributes"] - ms["prescribed"],
        "pyHanko's other steps": ms["async_sign_pdf"] - ms["field"] - ms["appearance"] - ms["write"] - ms["cms"],
        "event loop (one kept per thread)": ms["loop"] - ms["async_sign_pdf"],
    }
    steps["other (metadata, our code)"] = 1000 * total / len(pdfs) - ms["read"] - ms["loop"]
    steps["the whole seal"] = 1000 * total / len(pdfs)
    return steps
