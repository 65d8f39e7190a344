"""Helpers of the official-certificate tests (their fixtures are in conftest.py)."""

import io

from pypdf import PdfReader

SIGNATORY = {
    "signatory_name": "Dr. Andi Pratama, S.Kom., M.T.",
    "signatory_position": "Kepala Dinas Komunikasi dan Informatika Provinsi Kalimantan Timur",
    "signatory_nip": "19700101 199503 1 001",
    "signatory_rank": "Pembina Utama Muda (IV/c)",
}


def stored_bytes(certificate) -> bytes:
    with certificate.pdf.open("rb") as handle:
        return handle.read()


def page_text(data: bytes) -> str:
    return " ".join(PdfReader(io.BytesIO(data)).pages[0].extract_text().split())
