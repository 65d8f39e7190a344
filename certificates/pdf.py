"""Rendering a certificate as a one-page A4 landscape PDF (ReportLab), with a vector QR code (segno)."""

import io
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import segno
from reportlab import rl_config
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfdoc import PDFInfo, PDFString
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

# Page streams are Flate-compressed; ASCII85 on top only makes them bigger and slower to write.
rl_config.useA85 = 0

MONTHS_ID = (
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember",
)  # fmt: skip
QR_MASK = 2
BRAND = HexColor("#0b5394")
INK = HexColor("#1d2733")
MUTED = HexColor("#5b6b7c")
# The document-information key that carries the verification code, so a PDF handed back for
# verification is matched to its certificate without reading its page text.
CODE_INFO_KEY = "GCIOCode"


@dataclass(frozen=True)
class SealPlacement:
    """Where the electronic seal's visible signature goes: a page (0-based) and a rectangle
    (lower-left x, lower-left y, upper-right x, upper-right y) in PDF points."""

    page: int
    box: tuple[int, int, int, int]


# Centred in the band between the cohort line and the footer, clear of the footer's text (whose
# verification URL grows with SITE_URL) and of the QR code; nothing else is drawn there.
SEAL_PLACEMENT = SealPlacement(page=0, box=(321, 150, 521, 222))


@dataclass(frozen=True)
class CertificateContent:
    holder_name: str
    holder_nip: str
    course_title: str
    cohort_name: str
    issued_on: "object"  # datetime.date
    number: str
    code: str  # as displayed, XXXX-XXXX-XXXX
    verify_url: str
    issuer: str


class _InfoWithCode(PDFInfo):
    """ReportLab's document information dictionary plus the verification code."""

    def __init__(self, code: str):
        super().__init__()
        self.code = code

    def format(self, document):
        formatted = super().format(document)
        # PDFInfo builds a fixed dictionary; the extra key goes in just before it closes.
        extra = f"/{CODE_INFO_KEY} ".encode() + PDFString(self.code).format(document) + b"\n"
        head, _, tail = formatted.rpartition(b">>")
        return head + extra + b">>" + tail


def date_indonesian(value) -> str:
    """22 November 2026."""
    return f"{value.day} {MONTHS_ID[value.month - 1]} {value.year}"


@cache
def _embedded_fonts() -> tuple[str, str]:
    """Register Source Sans Pro once per process; ReportLab embeds a subset of it in each PDF."""
    import font_source_sans_pro

    folder = Path(font_source_sans_pro.__file__).parent / "files"
    pdfmetrics.registerFont(TTFont("SourceSans", str(folder / "SourceSansPro-Regular.ttf")))
    pdfmetrics.registerFont(TTFont("SourceSans-Bold", str(folder / "SourceSansPro-Bold.ttf")))
    return "SourceSans", "SourceSans-Bold"


def _fonts_for(content: CertificateContent) -> tuple[str, str]:
    """Built-in Helvetica when every character is in its encoding (cp1252), else an embedded TrueType font.

    Built-in fonts cost nothing per document but cannot show e.g. ``Nguyễn`` or ``Łukasz``;
    subsetting a TrueType font costs several milliseconds per PDF, so it is paid only when needed.
    """
    text = "".join((content.holder_name, content.course_title, content.cohort_name, content.issuer))
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return _embedded_fonts()
    return "Helvetica", "Helvetica-Bold"


def _draw_qr(canvas: Canvas, url: str, x: float, y: float, size: float) -> None:
    """The QR code as one vector path: one rectangle per horizontal run of dark modules."""
    # A fixed mask skips segno's evaluation of all eight (over half the rendering time); any mask
    # is valid QR and the code is printed large, so scanners read it as well (the tests decode it).
    qr = segno.make(url, error="m", micro=False, mask=QR_MASK)
    matrix = qr.matrix
    border = 2
    modules = len(matrix) + 2 * border
    unit = size / modules
    path = canvas.beginPath()
    for row_index, row in enumerate(matrix):
        top = y + size - (row_index + border + 1) * unit
        start = None
        for col_index, dark in enumerate([*row, 0]):
            if dark and start is None:
                start = col_index
            elif not dark and start is not None:
                path.rect(x + (start + border) * unit, top, (col_index - start) * unit, unit)
                start = None
    canvas.setFillColorRGB(1, 1, 1)
    canvas.rect(x, y, size, size, stroke=0, fill=1)
    canvas.setFillColor(INK)
    canvas.drawPath(path, stroke=0, fill=1)


def _fit(canvas: Canvas, text: str, font: str, size: float, max_width: float) -> float:
    """The largest font size up to ``size`` at which ``text`` fits ``max_width``."""
    width = pdfmetrics.stringWidth(text, font, size)
    return size if width <= max_width else max(10.0, size * max_width / width)


def render_certificate_pdf(content: CertificateContent) -> bytes:
    """The certificate PDF as bytes. Deterministic: the same content gives the same bytes.

    The document information carries the verification code under ``/GCIOCode``, and the
    rectangle ``SEAL_PLACEMENT`` is left empty for the electronic seal's visible signature."""
    regular, bold = _fonts_for(content)
    buffer = io.BytesIO()
    width, height = landscape(A4)
    canvas = Canvas(buffer, pagesize=(width, height), invariant=True, pageCompression=1)
    # ReportLab has no public way to add an information key; its info object is replaced before
    # anything is set on it.
    canvas._doc.info = _InfoWithCode(content.code)
    canvas.setTitle(f"Sertifikat {content.number}")
    canvas.setAuthor(content.issuer)
    canvas.setSubject(content.course_title)

    # Frame
    canvas.setStrokeColor(BRAND)
    canvas.setLineWidth(6)
    canvas.rect(24, 24, width - 48, height - 48)
    canvas.setLineWidth(1)
    canvas.rect(36, 36, width - 72, height - 72)

    centre = width / 2
    canvas.setFillColor(BRAND)
    canvas.setFont(bold, 13)
    canvas.drawCentredString(centre, height - 82, content.issuer.upper())
    canvas.setFont(bold, 40)
    canvas.drawCentredString(centre, height - 140, "SERTIFIKAT")
    canvas.setFillColor(MUTED)
    canvas.setFont(regular, 13)
    canvas.drawCentredString(centre, height - 162, "Certificate of Completion")

    canvas.setFillColor(INK)
    canvas.setFont(regular, 14)
    canvas.drawCentredString(centre, height - 205, "Diberikan kepada / Awarded to")
    name_size = _fit(canvas, content.holder_name, bold, 32, width - 160)
    canvas.setFont(bold, name_size)
    canvas.drawCentredString(centre, height - 247, content.holder_name)
    canvas.setFont(regular, 14)
    canvas.drawCentredString(centre, height - 272, f"NIP {content.holder_nip}")

    canvas.drawCentredString(centre, height - 312, "telah menyelesaikan / has completed")
    course_size = _fit(canvas, content.course_title, bold, 20, width - 160)
    canvas.setFont(bold, course_size)
    canvas.drawCentredString(centre, height - 340, content.course_title)
    canvas.setFont(regular, 14)
    canvas.drawCentredString(centre, height - 362, content.cohort_name)

    # Footer: date, number and code on the left; QR on the right.
    left = 70
    canvas.setFont(regular, 12)
    canvas.drawString(left, 140, f"Tanggal terbit / Issued on: {date_indonesian(content.issued_on)}")
    canvas.drawString(left, 120, f"Nomor / Number: {content.number}")
    canvas.drawString(left, 100, f"Kode verifikasi / Verification code: {content.code}")
    canvas.setFillColor(MUTED)
    canvas.setFont(regular, 10)
    canvas.drawString(left, 76, f"Verifikasi / Verify: {content.verify_url}")

    qr_size = 118
    _draw_qr(canvas, content.verify_url, width - 70 - qr_size, 62, qr_size)
    canvas.setFillColor(MUTED)
    canvas.setFont(regular, 9)
    canvas.drawCentredString(width - 70 - qr_size / 2, 52, "Pindai untuk verifikasi / Scan to verify")

    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
