"""Rendering a certificate as a one-page A4 landscape PDF (ReportLab), with a vector QR code (zxing-cpp)."""

import hashlib
import io
import math
import re
import zlib
from dataclasses import dataclass, replace
from functools import cache, lru_cache
from pathlib import Path

import zxingcpp
from reportlab import rl_config
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.pdfdoc import PDFInfo, PDFString
from reportlab.pdfbase.ttfonts import FF_NONSYMBOLIC, FF_SYMBOLIC, SUBSETN, TTFont, makeToUnicodeCMap
from reportlab.pdfgen.canvas import Canvas

# Page streams are Flate-compressed; ASCII85 on top only makes them bigger and slower to write.
rl_config.useA85 = 0

MONTHS_ID = (
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember",
)  # fmt: skip
BRAND = HexColor("#123a5e")  # deep navy: frame, title, mark
ACCENT = HexColor("#9a7b3c")  # muted gold: the second strand of the frame, rules
INK = HexColor("#1d2733")
MUTED = HexColor("#5b6b7c")
# The document-information key that carries the verification code, so a PDF handed back for
# verification is matched to its certificate without reading its page text.
CODE_INFO_KEY = "GCIOCode"

PAGE_WIDTH, PAGE_HEIGHT = landscape(A4)
CENTRE_X = PAGE_WIDTH / 2
TEXT_WIDTH = 620  # widest line of the centre column
MARGIN_X = 78  # left edge of the QR block, right edge of the signatory block
FOOTER_BASELINE = 53
# The signatory block (bottom right): a column centred here, as wide as this.
SIGNATORY_X = PAGE_WIDTH - MARGIN_X - 118
SIGNATORY_WIDTH = 236
# The QR block (bottom left).
QR_SIZE = 84
QR_BOTTOM = 68
# The logo or text mark, centred at the top: its top edge, and half its height.
MARK_TOP = PAGE_HEIGHT - 56
MARK_RADIUS = 27


@dataclass(frozen=True)
class SealPlacement:
    """Where the electronic seal's visible signature goes: a page (0-based) and a rectangle
    (lower-left x, lower-left y, upper-right x, upper-right y) in PDF points."""

    page: int
    box: tuple[int, int, int, int]


# In the signatory block, between the official's position and name: where a hand signature and
# stamp would go. The renderer draws nothing inside it.
SEAL_PLACEMENT = SealPlacement(page=0, box=(round(SIGNATORY_X) - 100, 110, round(SIGNATORY_X) + 100, 160))
NAME_BASELINE = SEAL_PLACEMENT.box[1] - 14  # the signing official's name, just under the seal
# The empty signature field a sealed certificate's page carries in that rectangle, which the seal signs.
SEAL_FIELD_NAME = "SegelElektronik"
SEAL_FIELD_LABEL = "Segel elektronik"


@dataclass(frozen=True)
class CertificateContent:
    """Everything the certificate shows; nothing else is read while rendering."""

    holder_name: str
    holder_nip: str
    course_title: str
    cohort_name: str
    issued_on: "object"  # datetime.date
    number: str
    code: str  # as displayed, XXXX-XXXX-XXXX
    verify_url: str  # {SITE_URL}/verify/{code}/, what the QR code holds
    issuer: str  # the issuing body, e.g. "Dinas Komunikasi dan Informatika Provinsi Kalimantan Timur"
    title: str = "SERTIFIKAT"
    title_en: str = "Certificate of Training"  # the quiet English line under the title; "" for none
    # The issuing body's logo: image bytes (PNG, JPEG) or a file path. None: a text mark, the
    # initials (``issuer_mark``, default those of ``issuer``) in a drawn ring.
    issuer_logo: bytes | str | Path | None = None
    issuer_mark: str = ""
    holder_position: str = ""  # jabatan
    holder_unit: str = ""  # unit kerja
    starts_on: "object" = None  # the cohort's period, datetime.date
    ends_on: "object" = None
    jp: int | None = None  # jam pelajaran
    place: str = ""  # place of issue, e.g. "Samarinda"
    signatory_position: str = ""
    signatory_name: str = ""
    signatory_nip: str = ""
    signatory_rank: str = ""  # pangkat/golongan, e.g. "Pembina Utama Muda (IV/c)"
    # Whether the PDF will carry the issuing body's electronic seal (and so says it does, and holds
    # the signature field the seal signs).
    sealed: bool = True
    # The seal's name (its certificate's common name), shown in the visible seal; "" shows ``issuer``.
    seal_name: str = ""

    @property
    def verify_page_url(self) -> str:
        """The verification page where the code can be typed in: ``verify_url`` without the code."""
        return self.verify_url.rstrip("/").rsplit("/", 1)[0] + "/"


class _InfoWithCode(PDFInfo):
    """The document information: the title (what a PDF reader shows for the document) and the
    verification code, nothing else. The issuing body and the training are on the page and the
    issuing body in the seal's certificate; ReportLab's fixed dictionary would add creation and
    modification dates of 1 January 2000 (invariant mode, which keeps the bytes deterministic), an
    anonymous creator, empty keywords and trapping. The seal reads and rewrites this dictionary
    (a PDF 2.0 document, which a P-256 seal makes it, keeps its metadata in the XMP stream the
    seal writes), and pyHanko's reader parses it a byte at a time."""

    def __init__(self, code: str):
        super().__init__()
        self.code = code

    def format(self, document):
        entries = {"Title": PDFString(self.title), CODE_INFO_KEY: PDFString(self.code)}
        return pdfdoc.PDFDictionary(entries).format(document)


def date_indonesian(value) -> str:
    """22 November 2026."""
    return f"{value.day} {MONTHS_ID[value.month - 1]} {value.year}"


def period_indonesian(starts_on, ends_on) -> str:
    """2 s.d. 27 Desember 2026; 28 November s.d. 3 Desember 2026; 28 Desember 2026 s.d. 3 Januari 2027."""
    if starts_on is None or ends_on is None or starts_on == ends_on:
        return date_indonesian(starts_on or ends_on)
    if starts_on.year != ends_on.year:
        return f"{date_indonesian(starts_on)} s.d. {date_indonesian(ends_on)}"
    if starts_on.month != ends_on.month:
        return f"{starts_on.day} {MONTHS_ID[starts_on.month - 1]} s.d. {date_indonesian(ends_on)}"
    return f"{starts_on.day} s.d. {date_indonesian(ends_on)}"


def training_details(content: CertificateContent) -> str:
    """The line under the training's name: cohort, period and JP, each only when known."""
    parts = [content.cohort_name] if content.cohort_name else []
    if content.starts_on or content.ends_on:
        parts.append(f"tanggal {period_indonesian(content.starts_on, content.ends_on)}")
    if content.jp:
        parts.append(f"selama {content.jp} JP (jam pelajaran)")
    return ", ".join(parts)


def verify_instruction(content: CertificateContent) -> str:
    return f"Pindai kode QR atau buka {content.verify_page_url} dan masukkan kode {content.code}."


def sealed_statement(content: CertificateContent) -> str:
    return f"Dokumen ini ditandatangani secara elektronik (segel elektronik) oleh {content.issuer}."


def mark_initials(issuer: str) -> str:
    """The text mark's letters: the initials of the issuer's capitalised words (at most six)."""
    return "".join(word[0] for word in issuer.split() if word[:1].isupper())[:6] or "?"


# --- Fonts -------------------------------------------------------------------------------------


class _Raw(pdfdoc.PDFObject):
    """Bytes written into the PDF as they are (an already formatted PDF value)."""

    def __init__(self, data: bytes):
        self.data = data

    def format(self, document) -> bytes:
        return self.data


def _flate_stream(compressed: bytes, **entries) -> pdfdoc.PDFStream:
    """A stream whose content is already Flate-compressed (ReportLab leaves a stream alone whose
    dictionary names its filter)."""
    dictionary = pdfdoc.PDFDictionary({**entries, "Filter": pdfdoc.PDFArray([pdfdoc.PDFName("FlateDecode")])})
    return pdfdoc.PDFStream(dictionary, compressed)


class _CachedTTFont(TTFont):
    """A TrueType font whose embedded subsets are built once per process, not once per PDF.

    ReportLab subsets the font for every document and formats its widths and character map anew:
    most of a certificate's rendering time. With ASCII kept readable (ReportLab's default) every
    plain-Latin text gives the same first subset, so after the first certificate its font file,
    widths and character map come from this cache, already compressed and formatted. The objects
    written are those ``TTFont.addObjects`` writes."""

    @lru_cache(maxsize=64)  # noqa: B019 (fonts are registered once and live as long as the process)
    def _subset_parts(self, index: int, subset: tuple[int, ...]) -> tuple[str, bytes, int, bytes, bytes]:
        face = self.face
        base_name = (b"".join((SUBSETN(index), b"+", face.name, face.subfontNameX))).decode("pdfdoc")
        font_file = face.makeSubset(list(subset))
        widths = b"[" + b" ".join(b"%d" % face.getCharWidth(code) for code in subset) + b"]"
        cmap = zlib.compress(makeToUnicodeCMap(base_name, list(subset)).encode())
        return base_name, zlib.compress(font_file), len(font_file), widths, cmap

    def addObjects(self, doc):
        state = self._assignState(doc)
        state.frozen = 1
        face = self.face
        for index, subset in enumerate(state.subsets):
            internal_name = self.getSubsetInternalName(index, doc)[1:]
            base_name, font_file, length, widths, cmap = self._subset_parts(index, tuple(subset))
            font_file_ref = doc.Reference(
                _flate_stream(font_file, Length1=length), f"fontFile:{face.filename}({base_name})"
            )
            descriptor = pdfdoc.PDFDictionary(
                {
                    "Type": "/FontDescriptor",
                    "Ascent": face.ascent,
                    "CapHeight": face.capHeight,
                    "Descent": face.descent,
                    "Flags": (face.flags & ~FF_NONSYMBOLIC) | FF_SYMBOLIC,
                    "FontBBox": pdfdoc.PDFArray(face.bbox),
                    "FontName": pdfdoc.PDFName(base_name),
                    "ItalicAngle": face.italicAngle,
                    "StemV": face.stemV,
                    "FontFile2": font_file_ref,
                    "MissingWidth": face.defaultWidth,
                }
            )
            font = pdfdoc.PDFTrueTypeFont()
            font.__Comment__ = f"Font {self.fontName} subset {index}"
            font.Name = internal_name
            font.BaseFont = base_name
            font.FirstChar = 0
            font.LastChar = len(subset) - 1
            font.Widths = _Raw(widths)
            font.ToUnicode = doc.Reference(_flate_stream(cmap), "toUnicodeCMap:" + base_name)
            font.FontDescriptor = doc.Reference(descriptor, "fontDescriptor:" + base_name)
            doc.Reference(font, internal_name)
            doc.idToObject["BasicFonts"].dict[internal_name] = font
        del self.state[doc]


SERIF, SERIF_BOLD, SERIF_ITALIC = "CertSerif", "CertSerif-Bold", "CertSerif-Italic"
# Scripts Source Serif lacks, drawn with a CJK font every PDF reader provides (not embedded).
CJK_FONT, HANGUL_FONT = "STSong-Light", "HYSMyeongJo-Medium"


@cache
def _fonts() -> dict[str, dict[int, int]]:
    """Register the fonts once per process; each PDF embeds a subset of what it uses.

    Source Serif Pro (SIL Open Font License) covers Latin with its extensions and Vietnamese,
    Greek and Cyrillic. Returns each font's character map."""
    import font_source_serif_pro

    folder = Path(font_source_serif_pro.__file__).parent / "files"
    maps = {}
    for name, file in ((SERIF, "Regular"), (SERIF_BOLD, "Bold"), (SERIF_ITALIC, "It")):
        font = _CachedTTFont(name, str(folder / f"SourceSerifPro-{file}.ttf"))
        pdfmetrics.registerFont(font)
        maps[name] = font.face.charToGlyph
    pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    pdfmetrics.registerFont(UnicodeCIDFont(HANGUL_FONT))
    return maps


def _fallback(char: str) -> str | None:
    code = ord(char)
    if 0xAC00 <= code <= 0xD7AF or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F:
        return HANGUL_FONT
    if 0x2E80 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or 0xFF00 <= code <= 0xFFEF:
        return CJK_FONT
    return None


def _runs(text: str, font: str) -> list[tuple[str, str]]:
    """``text`` split into (font, piece) runs: ``font`` where it has the glyph, else a fallback."""
    glyphs = _fonts()[font]
    runs: list[tuple[str, str]] = []
    for char in text:
        use = font if ord(char) in glyphs or char == " " else (_fallback(char) or font)
        if runs and runs[-1][0] == use:
            runs[-1] = (use, runs[-1][1] + char)
        else:
            runs.append((use, char))
    return runs


@lru_cache(maxsize=4096)
def _width(text: str, font: str, size: float, spacing: float = 0.0) -> float:
    if text.isascii():
        width = pdfmetrics.stringWidth(text, font, size)
    else:
        width = sum(pdfmetrics.stringWidth(piece, run_font, size) for run_font, piece in _runs(text, font))
    return width + spacing * max(len(text) - 1, 0)


# --- Text layout -------------------------------------------------------------------------------


def _wrap(text: str, font: str, size: float, width: float, spacing: float = 0.0) -> list[str]:
    """Greedy word wrap; a word wider than ``width`` on its own is broken between characters."""
    words = text.split()
    widths = [_width(word, font, size, spacing) for word in words]
    space = _width(" ", font, size) + spacing * 2  # the space and the spacing either side of it
    lines: list[str] = []
    line, line_width = [], 0.0
    for word, word_width in zip(words, widths, strict=True):
        if line and line_width + space + word_width <= width:
            line.append(word)
            line_width += space + word_width
            continue
        if line:
            lines.append(" ".join(line))
        while word_width > width and len(word) > 1:
            cut = len(word) - 1
            while cut > 1 and _width(word[:cut], font, size, spacing) > width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
            word_width = _width(word, font, size, spacing)
        line, line_width = [word], word_width
    if line:
        lines.append(" ".join(line))
    return lines


def _wrap_balanced(text: str, font: str, size: float, width: float, spacing: float = 0.0) -> list[str]:
    """As many lines as a greedy wrap needs, but as even as they can be (no lone last word):
    the narrowest width at which the greedy wrap still needs no more lines."""
    lines = _wrap(text, font, size, width, spacing)
    if len(lines) < 2:
        return lines
    low, high = max(_width(line, font, size, spacing) for line in lines) / len(lines), width
    for _ in range(8):
        middle = (low + high) / 2
        if len(_wrap(text, font, size, middle, spacing)) <= len(lines):
            high = middle
        else:
            low = middle
    return _wrap(text, font, size, high, spacing)


def _fit(
    text: str,
    font: str,
    size: float,
    width: float,
    *,
    max_lines: int,
    min_size: float,
    spacing_em: float = 0.0,
    wrap_size: float | None = None,
) -> tuple[float, list[str]]:
    """The size and lines of ``text`` within ``width``: one line at ``size``, else one line shrunk
    down to ``min_size``, else balanced lines (at most ``max_lines``) at ``wrap_size`` (default
    ``min_size``), shrinking further only when even those are too many."""
    natural = _width(text, font, size, spacing_em * size)
    if natural <= width:
        return size, [text]
    shrunk = math.floor(size * width / natural * 4) / 4  # quarter points: never over the width
    if shrunk >= min_size or max_lines == 1:
        return max(shrunk, 0.25), [text]
    candidate = wrap_size or min_size
    while True:
        lines = _wrap_balanced(text, font, candidate, width, spacing_em * candidate)
        if len(lines) <= max_lines or candidate <= 5:
            return candidate, lines
        candidate -= 0.5


@dataclass(frozen=True)
class _Line:
    """One line of text placed on the page; ``x`` is its centre, or its left edge when ``left``."""

    text: str
    font: str
    size: float
    x: float
    y: float
    colour: object = INK
    spacing: float = 0.0
    left: bool = False

    @property
    def width(self) -> float:
        return _width(self.text, self.font, self.size, self.spacing)

    @property
    def x0(self) -> float:
        return self.x if self.left else self.x - self.width / 2


@dataclass(frozen=True)
class _Block:
    """Lines of one style in the centre column; its first baseline is ``gap`` below the previous block's last."""

    font: str
    size: float
    lines: list[str]
    gap: float
    colour: object = INK
    spacing_em: float = 0.0


def _centre_blocks(content: CertificateContent, gaps: float, sizes: float) -> list[_Block]:
    def block(
        text,
        font,
        size,
        gap,
        *,
        max_lines=2,
        min_size=None,
        wrap_size=None,
        colour=INK,
        spacing_em=0.0,
        width=TEXT_WIDTH,
    ):
        size, lines = _fit(
            text,
            font,
            size * sizes,
            width,
            max_lines=max_lines,
            min_size=(min_size or size) * sizes,
            spacing_em=spacing_em,
            wrap_size=wrap_size and wrap_size * sizes,
        )
        return _Block(font, size, lines, gap * gaps, colour, spacing_em)

    blocks = [
        block(content.issuer.upper(), SERIF_BOLD, 12, 0, min_size=10, colour=BRAND, spacing_em=0.06),
        block(content.title.upper(), SERIF_BOLD, 34, 42, min_size=24, colour=BRAND, spacing_em=0.14, width=540),
    ]
    if content.title_en:
        blocks.append(block(content.title_en, SERIF_ITALIC, 11, 19, colour=MUTED))
    blocks += [
        block(f"Nomor: {content.number}", SERIF, 11, 19, min_size=9),
        block("diberikan kepada", SERIF, 12.5, 36),
        block("awarded to", SERIF_ITALIC, 9.5, 13, colour=MUTED),
        block(content.holder_name, SERIF_BOLD, 27, 33, min_size=19, wrap_size=22),
    ]
    holder = [f"NIP {content.holder_nip}"] if content.holder_nip else []
    holder += [text for text in (content.holder_position, content.holder_unit) if text]
    for index, text in enumerate(holder):
        blocks.append(block(text, SERIF, 11.5, 21 if index == 0 else 15, min_size=10.5))
    blocks += [
        block("telah mengikuti dan dinyatakan LULUS", SERIF, 12.5, 28),
        block("has completed and PASSED", SERIF_ITALIC, 9.5, 13, colour=MUTED),
        block(content.course_title, SERIF_BOLD, 18, 25, min_size=14),
    ]
    details = training_details(content)
    if details:
        blocks.append(block(details, SERIF, 11.5, 20, min_size=10.5))
    return blocks


def _centre_lines(content: CertificateContent, top: float, floor: float) -> list[_Line]:
    """The centre column's lines, the first baseline at ``top``. When the last would fall below
    ``floor`` the gaps close up first (to 60 %), then the type shrinks (to 80 %)."""
    for gaps, sizes in [(1 - step * 0.05, 1.0) for step in range(9)] + [(0.6, 1 - step * 0.04) for step in range(1, 6)]:
        blocks = _centre_blocks(content, gaps, sizes)
        lines, y, previous = [], top, None
        for block in blocks:
            # Never closer than the previous line's descenders and this one's capitals need.
            y -= block.gap if previous is None else max(block.gap, previous.size * 0.3 + block.size * 0.8)
            previous = block
            for index, text in enumerate(block.lines):
                if index:
                    y -= block.size * 1.18
                lines.append(
                    _Line(text, block.font, block.size, CENTRE_X, y, block.colour, block.spacing_em * block.size)
                )
        if y >= floor:
            break
    return lines


# --- Drawing -----------------------------------------------------------------------------------


def _draw_text(canvas: Canvas, text: str, font: str, size: float, x: float, y: float, *, spacing: float = 0.0):
    """``text`` from (x, y), in ``font`` with per-character fallback for scripts it lacks."""
    writer = canvas.beginText(x, y)
    # Character spacing is graphics state: it outlives the text object unless set every time.
    writer.setCharSpace(spacing)
    for run_font, piece in _runs(text, font) if not text.isascii() else [(font, text)]:
        writer.setFont(run_font, size)
        writer.textOut(piece)
    canvas.drawText(writer)


def _draw_centred(canvas: Canvas, text: str, font: str, size: float, x: float, y: float, spacing: float = 0.0):
    _draw_text(canvas, text, font, size, x - _width(text, font, size, spacing) / 2, y, spacing=spacing)


def _wave_path(inset: float, amplitude: float, phase: float, waves_per_side: tuple[int, int]) -> str:
    """A sine wave running round the page at ``inset`` (PDF operators, one decimal)."""
    x0, y0, x1, y1 = inset, inset, PAGE_WIDTH - inset, PAGE_HEIGHT - inset
    horizontal, vertical = waves_per_side
    points = []
    # The four sides in turn, each an integer number of waves, so the strand meets itself at the corners.
    for (ax, ay), (bx, by), waves in (
        ((x0, y0), (x1, y0), horizontal),
        ((x1, y0), (x1, y1), vertical),
        ((x1, y1), (x0, y1), horizontal),
        ((x0, y1), (x0, y0), vertical),
    ):
        length = math.hypot(bx - ax, by - ay)
        ux, uy = (bx - ax) / length, (by - ay) / length
        nx, ny = -uy, ux  # the normal, pointing into the page
        steps = waves * 12
        for step in range(steps):
            t = step / steps
            offset = amplitude * math.sin(2 * math.pi * waves * t + phase) * math.sin(math.pi * t) ** 0.25
            points.append((ax + ux * length * t + nx * offset, ay + uy * length * t + ny * offset))
    ops = [f"{points[0][0]:.1f} {points[0][1]:.1f} m"]
    ops += [f"{x:.1f} {y:.1f} l" for x, y in points[1:]]
    ops.append("h S")
    return "\n".join(ops)


def _rgb(colour) -> str:
    return f"{colour.red:.3f} {colour.green:.3f} {colour.blue:.3f}"


@cache
def _frame_stream() -> bytes:
    """The border, drawn once per process: an outer and inner rule with two interlaced sine strands
    between them (a quiet guilloche), and corner diamonds. Compressed, ready to embed as a form."""
    w, h = PAGE_WIDTH, PAGE_HEIGHT
    waves = (40, 27)  # along the long and the short sides
    ops = [
        f"q {_rgb(BRAND)} RG 1.2 w 20 20 {w - 40:.1f} {h - 40:.1f} re S",
        f"0.5 w 40 40 {w - 80:.1f} {h - 80:.1f} re S",
        f"0.3 w 44 44 {w - 88:.1f} {h - 88:.1f} re S",
        "0.45 w",
        _wave_path(30, 5.5, 0, waves),
        f"{_rgb(ACCENT)} RG 0.45 w",
        _wave_path(30, 5.5, math.pi, waves),
        "0.35 w",
        _wave_path(30, 2.2, math.pi / 2, waves),
    ]
    for cx, cy in ((40, 40), (w - 40, 40), (w - 40, h - 40), (40, h - 40)):
        ops.append(f"{_rgb(BRAND)} rg {cx:.1f} {cy + 7:.1f} m {cx + 7:.1f} {cy:.1f} l {cx:.1f} {cy - 7:.1f} l")
        ops.append(f"{cx - 7:.1f} {cy:.1f} l f")
        ops.append(f"1 1 1 rg {cx:.1f} {cy + 3:.1f} m {cx + 3:.1f} {cy:.1f} l {cx:.1f} {cy - 3:.1f} l")
        ops.append(f"{cx - 3:.1f} {cy:.1f} l f")
    ops.append("Q")
    return zlib.compress("\n".join(ops).encode())


def _draw_frame(canvas: Canvas) -> None:
    """Places the cached frame as a Form XObject: its compressed stream is copied, not rebuilt."""
    name = "CertFrame"
    form = pdfdoc.PDFStream(
        pdfdoc.PDFDictionary(
            {
                "Type": pdfdoc.PDFName("XObject"),
                "Subtype": pdfdoc.PDFName("Form"),
                "BBox": pdfdoc.PDFArray([0, 0, round(PAGE_WIDTH, 2), round(PAGE_HEIGHT, 2)]),
                "Resources": pdfdoc.PDFDictionary({}),
                "Filter": pdfdoc.PDFArray([pdfdoc.PDFName("FlateDecode")]),
            }
        ),
        _frame_stream(),
    )
    registered = canvas._doc.getXObjectName(name)
    canvas._doc.Reference(form, registered)
    # ReportLab lists the page's XObjects from the forms it has seen used on the page.
    canvas._formsinuse.append(name)
    canvas._code.append(f"/{registered} Do")


@lru_cache(maxsize=8)
def _logo_image(data: bytes) -> tuple[str, dict, dict | None]:
    """The logo decoded and compressed once per process (by content): the attributes of its image
    XObject and of its soft mask (transparency), if any."""
    name = "Logo" + hashlib.sha256(data).hexdigest()[:16]
    image = pdfdoc.PDFImageXObject(name, ImageReader(io.BytesIO(data)), mask="auto")
    image.name = name
    mask = image.__dict__.pop("_smask", None)
    return name, dict(image.__dict__), None if mask is None else dict(mask.__dict__)


def _image_object(attributes: dict) -> pdfdoc.PDFImageXObject:
    """A new image XObject (a document registers its own objects) sharing the cached, compressed data."""
    image = pdfdoc.PDFImageXObject.__new__(pdfdoc.PDFImageXObject)
    image.__dict__.update(attributes)
    return image


def _logo_bytes(logo: bytes | str | Path) -> bytes:
    return bytes(logo) if isinstance(logo, bytes | bytearray) else Path(logo).read_bytes()


def _draw_logo(canvas: Canvas, logo: bytes | str | Path, centre_x: float, top: float, box: float) -> None:
    """The logo fitted in a ``box``-point square whose top edge is ``top``, keeping its proportions."""
    name, attributes, mask_attributes = _logo_image(_logo_bytes(logo))
    image = _image_object(attributes)
    doc = canvas._doc
    registered = doc.getXObjectName(name)
    doc.Reference(image, registered)
    if mask_attributes is not None:
        mask = _image_object(mask_attributes)
        image.smask = doc.Reference(mask, doc.getXObjectName(mask.name))
    canvas._formsinuse.append(name)
    scale = box / max(image.width, image.height)
    width, height = image.width * scale, image.height * scale
    canvas.saveState()
    canvas.translate(centre_x - width / 2, top - height)
    canvas.scale(width, height)
    canvas._code.append(f"/{registered} Do")
    canvas.restoreState()


def _draw_mark(canvas: Canvas, text: str, centre_x: float, centre_y: float, radius: float = MARK_RADIUS) -> None:
    """The neutral text mark: the initials (two lines at most) in a double ring, a dot above and below."""
    canvas.saveState()
    canvas.setStrokeColor(BRAND)
    canvas.setFillColor(BRAND)
    canvas.setLineWidth(1.4)
    canvas.circle(centre_x, centre_y, radius, stroke=1, fill=0)
    canvas.setLineWidth(0.5)
    canvas.circle(centre_x, centre_y, radius - 3.2, stroke=1, fill=0)
    for dy in (1, -1):
        canvas.circle(centre_x, centre_y + dy * (radius - 7), 1.0, stroke=0, fill=1)
    lines = [line for line in text.upper().split("\n") if line][:2]
    inner = 2 * radius - 15  # the widest line stays inside the inner ring
    size = min(14.0, *(14.0 * inner / max(_width(line, SERIF_BOLD, 14.0, 0.05 * 14), 1) for line in lines))
    leading = size * 1.1
    baseline = centre_y - size * 0.34 + leading * (len(lines) - 1) / 2
    for line in lines:
        _draw_centred(canvas, line, SERIF_BOLD, size, centre_x, baseline, spacing=0.05 * size)
        baseline -= leading
    canvas.restoreState()


def _draw_ornament(canvas: Canvas, lines: list[_Line]) -> None:
    """A short gold rule with a diamond between the certificate's number and "diberikan kepada"."""
    number = next((line for line in lines if line.text.startswith("Nomor: ")), None)
    awarded = next((line for line in lines if line.text == "diberikan kepada"), None)
    if number is None or awarded is None:
        return
    y = (number.y + awarded.y + awarded.size * 0.7) / 2
    canvas.saveState()
    canvas.setStrokeColor(ACCENT)
    canvas.setFillColor(ACCENT)
    canvas.setLineWidth(0.6)
    canvas.line(CENTRE_X - 70, y, CENTRE_X - 7, y)
    canvas.line(CENTRE_X + 7, y, CENTRE_X + 70, y)
    path = canvas.beginPath()
    path.moveTo(CENTRE_X, y + 3.2)
    path.lineTo(CENTRE_X + 3.2, y)
    path.lineTo(CENTRE_X, y - 3.2)
    path.lineTo(CENTRE_X - 3.2, y)
    path.close()
    canvas.drawPath(path, stroke=0, fill=1)
    canvas.restoreState()


_DARK_RUN = re.compile(rb"\x00+")


@lru_cache(maxsize=256)
def _qr_runs(url: str) -> tuple[int, tuple[tuple[int, int, int], ...]]:
    """The QR code's size in modules and its dark runs (row, first column, length).

    zxing-cpp encodes in C++ (error correction M, the mask chosen by the standard's evaluation) a
    few times faster than a pure-Python encoder with its mask fixed; its image has one byte per
    module, 0 where dark."""
    image = zxingcpp.create_barcode(url, zxingcpp.BarcodeFormat.QRCode, ec_level="M").to_image(
        scale=1, add_quiet_zones=False
    )
    count = image.shape[0]
    modules = bytes(memoryview(image))
    runs = tuple(
        (row, run.start() - row * count, run.end() - run.start())
        for row in range(count)
        for run in _DARK_RUN.finditer(modules, row * count, (row + 1) * count)
    )
    return count, runs


def _draw_qr(canvas: Canvas, url: str, x: float, y: float, size: float) -> None:
    """The QR code as one vector path: one rectangle per horizontal run of dark modules."""
    count, runs = _qr_runs(url)
    border = 2
    unit = size / (count + 2 * border)
    top = y + size - (border + 1) * unit
    left = x + border * unit
    canvas.setFillColorRGB(1, 1, 1)
    canvas.rect(x, y, size, size, stroke=0, fill=1)
    canvas.setFillColor(INK)
    # Written as operators directly: ReportLab's path object formats each number on its own,
    # several times slower for the few hundred rectangles of a QR code.
    height = f"{unit:.3f}"
    canvas.addLiteral(
        "\n".join(
            f"{left + start * unit:.3f} {top - row * unit:.3f} {length * unit:.3f} {height} re"
            for row, start, length in runs
        )
        + "\nf"
    )


def _signatory_lines(content: CertificateContent) -> list[_Line]:
    """Place and date, the official's position, room for the seal, name, rank and NIP, centred
    on ``SIGNATORY_X``."""
    x, width = SIGNATORY_X, SIGNATORY_WIDTH

    def fitted(text, font, size, y, min_size=7):
        size, (line,) = _fit(text, font, size, width, max_lines=1, min_size=min_size)
        return _Line(line, font, size, x, y)

    lines = []
    y = NAME_BASELINE
    if content.signatory_name:
        lines.append(fitted(content.signatory_name, SERIF_BOLD, 12, y))
    for text in (content.signatory_rank, f"NIP {content.signatory_nip}" if content.signatory_nip else ""):
        if text:
            y -= 13
            lines.append(fitted(text, SERIF, 10, y))
    # Upwards from just above the seal: the position (up to three lines), then place and date.
    above: list[_Line] = []
    y = SEAL_PLACEMENT.box[3] + 10
    if content.signatory_position:
        size, position = _fit(content.signatory_position, SERIF, 10.5, width, max_lines=3, min_size=10.5)
        for text in reversed(position):
            above.insert(0, _Line(text, SERIF, size, x, y))
            y += size * 1.2
        y += 4
    place_date = date_indonesian(content.issued_on)
    if content.place:
        place_date = f"{content.place}, {place_date}"
    return [fitted(place_date, SERIF, 10.5, y), *above, *lines]


def _verification_lines(content: CertificateContent) -> list[_Line]:
    """Beside the QR code (bottom left): the code and how to check it."""
    x = MARGIN_X + QR_SIZE + 10
    width = SIGNATORY_X - SIGNATORY_WIDTH / 2 - 24 - x
    y = QR_BOTTOM + QR_SIZE - 10
    size, (code,) = _fit(content.code, SERIF_BOLD, 13, width, max_lines=1, min_size=8)
    lines = [
        _Line("Kode verifikasi:", SERIF, 8.5, x, y, left=True),
        _Line(code, SERIF_BOLD, size, x, y - 16, spacing=0.6, left=True),
    ]
    size, instruction = _fit(verify_instruction(content), SERIF, 8.5, width, max_lines=4, min_size=8.5)
    y -= 31
    for text in instruction:
        lines.append(_Line(text, SERIF, size, x, y, MUTED, left=True))
        y -= size * 1.3
    return lines


def _draw_lines(canvas: Canvas, lines: list[_Line]) -> None:
    for line in lines:
        canvas.setFillColor(line.colour)
        _draw_text(canvas, line.text, line.font, line.size, line.x0, line.y, spacing=line.spacing)


def seal_appearance_lines(content: CertificateContent) -> list[_Line]:
    """The visible seal's text, in the seal rectangle's own coordinates (origin at its lower left):
    who seals (the seal's name, or the issuing body) and on which date."""
    x0, y0, x1, y1 = SEAL_PLACEMENT.box
    width, height = x1 - x0, y1 - y0
    centre = width / 2
    size, names = _fit(content.seal_name or content.issuer, SERIF_BOLD, 8.5, width - 10, max_lines=2, min_size=6.5)
    lines = [_Line("Disegel secara elektronik oleh", SERIF_ITALIC, 7, centre, 0, MUTED)]
    lines += [_Line(text, SERIF_BOLD, size, centre, 0, BRAND) for text in names]
    lines.append(_Line(date_indonesian(content.issued_on), SERIF, 7, centre, 0, MUTED))
    # Centred vertically, each baseline a line's leading below the one above.
    leadings = [line.size * 1.25 for line in lines]
    y = (height + sum(leadings[1:])) / 2 - lines[0].size * 0.3
    placed = []
    for line, leading in zip(lines, [0.0, *leadings[1:]], strict=True):
        y -= leading
        placed.append(replace(line, y=y))
    return placed


def _draw_seal_field(canvas: Canvas, content: CertificateContent) -> None:
    """The empty signature field the seal signs, in ``SEAL_PLACEMENT``, with its appearance (a
    bordered box with ``seal_appearance_lines``) drawn here in the certificate's own fonts.

    Placing the field and its appearance is part of laying out the page, so it is done with the
    rest of the page; sealing then fills in the signature and changes nothing else on the page."""
    x0, y0, x1, y1 = SEAL_PLACEMENT.box
    name = "SealAppearance"
    canvas.beginForm(name, 0, 0, x1 - x0, y1 - y0)
    canvas.setStrokeColor(BRAND)
    canvas.setLineWidth(0.8)
    canvas.rect(0.5, 0.5, x1 - x0 - 1, y1 - y0 - 1, stroke=1, fill=0)
    for line in seal_appearance_lines(content):
        canvas.setFillColor(line.colour)
        _draw_text(canvas, line.text, line.font, line.size, line.x0, line.y)
    canvas.endForm()
    doc = canvas._doc
    # The field and its widget in one dictionary, with what a reader needs and nothing optional
    # (no /Type /Annot, no /P: the page lists it in /Annots): the seal parses it, and writes it again.
    widget = pdfdoc.PDFDictionary(
        {
            "Subtype": pdfdoc.PDFName("Widget"),
            "FT": pdfdoc.PDFName("Sig"),
            "T": PDFString(SEAL_FIELD_NAME),
            "TU": PDFString(SEAL_FIELD_LABEL),
            "F": 132,  # printed, locked
            "Rect": pdfdoc.PDFArray(list(SEAL_PLACEMENT.box)),
            "AP": pdfdoc.PDFDictionary({"N": pdfdoc.PDFObjectReference(doc.getXObjectName(name))}),
        }
    )
    canvas._addAnnotation(widget, SEAL_FIELD_NAME)
    # SignaturesExist | AppendOnly: what the form's flags say once it is signed, set here so that
    # signing does not write the form again.
    doc.Catalog.AcroForm = pdfdoc.PDFDictionary(
        {"Fields": pdfdoc.PDFArray([doc.refAnnotation(SEAL_FIELD_NAME)]), "SigFlags": 3}
    )


class _TrimmedPage(pdfdoc.PDFPage):
    """A page dictionary without what ReportLab writes into every page but a reader has no use
    for: /Rotate 0 (the default), an empty /Trans (no transition) and /ProcSet (obsolete since
    PDF 1.4). The seal reads this dictionary (and, into a PDF without its field, writes it again)."""

    def check_format(self, document):
        self.Rotate = None
        self.Trans = None
        super().check_format(document)
        self.Resources.ProcSet = []


class _TrimmedCatalog(pdfdoc.PDFCatalog):
    """The document catalog without /PageMode /UseNone (the default), and with the form (a
    certificate rendered for sealing has one) written into the catalog rather than as an object
    of its own. The seal reads the catalog and the form; each object it reads costs it a lookup
    in the cross-reference table and a parse."""

    __Defaults__ = {key: value for key, value in pdfdoc.PDFCatalog.__Defaults__.items() if key != "PageMode"}
    __Refs__ = [key for key in pdfdoc.PDFCatalog.__Refs__ if key != "AcroForm"]


# A certificate rendered for sealing is a PDF 2.0 document: the version whose signatures the seal
# is (PAdES, ETSI.CAdES.detached, in ISO 32000-2; ECDSA by ISO 32002). Declared in the header at
# render, so that the seal need not raise the version in a catalog it writes again.
SEALED_PDF_VERSION = (2, 0)


def certificate_lines(content: CertificateContent) -> list[_Line]:
    """Every line of text on the page, placed, in reading order."""
    bottom = _signatory_lines(content)
    floor = max(bottom[0].y, QR_BOTTOM + QR_SIZE) + 22  # clear of the signatory block and the QR code
    lines = _centre_lines(content, top=MARK_TOP - 2 * MARK_RADIUS - 15, floor=floor)
    lines += _verification_lines(content)
    lines += bottom
    if content.sealed:
        size, (statement,) = _fit(sealed_statement(content), SERIF_ITALIC, 8, 640, max_lines=1, min_size=5)
        lines.append(_Line(statement, SERIF_ITALIC, size, CENTRE_X, FOOTER_BASELINE, MUTED))
    return lines


def render_certificate_pdf(content: CertificateContent) -> bytes:
    """The certificate PDF as bytes. Deterministic: the same content gives the same bytes.

    The document information carries the verification code under ``/GCIOCode``. The page's
    drawing leaves the rectangle ``SEAL_PLACEMENT`` empty; for sealed content an empty signature
    field (``SEAL_FIELD_NAME``) with the visible seal's appearance fills it, which the seal signs."""
    _fonts()
    buffer = io.BytesIO()
    canvas = Canvas(
        buffer,
        pagesize=(PAGE_WIDTH, PAGE_HEIGHT),
        invariant=True,
        pageCompression=1,
        pdfVersion=SEALED_PDF_VERSION if content.sealed else None,
        # The font the canvas starts with, set in the page's preamble: one the page uses anyway,
        # rather than Helvetica, which nothing on the page is set in.
        initialFontName=SERIF,
    )
    canvas._doc.Catalog.__class__ = _TrimmedCatalog
    # ReportLab has no public way to add an information key; its info object is replaced before
    # anything is set on it.
    canvas._doc.info = _InfoWithCode(content.code)
    canvas.setTitle(f"{content.title} {content.number}")

    _draw_frame(canvas)
    if content.issuer_logo:
        _draw_logo(canvas, content.issuer_logo, CENTRE_X, MARK_TOP, 2 * MARK_RADIUS)
    else:
        _draw_mark(canvas, content.issuer_mark or mark_initials(content.issuer), CENTRE_X, MARK_TOP - MARK_RADIUS)
    lines = certificate_lines(content)
    _draw_lines(canvas, lines)
    _draw_qr(canvas, content.verify_url, MARGIN_X, QR_BOTTOM, QR_SIZE)
    if content.signatory_name:
        # The official's name is underlined, as on a signed letter.
        name = next(line for line in lines if line.y == NAME_BASELINE and line.font == SERIF_BOLD)
        canvas.setStrokeColor(INK)
        canvas.setLineWidth(0.6)
        canvas.line(name.x0, NAME_BASELINE - 2.5, name.x0 + name.width, NAME_BASELINE - 2.5)
    _draw_ornament(canvas, lines)
    if content.sealed:
        _draw_seal_field(canvas, content)

    canvas.showPage()
    canvas._doc.Pages.pages[-1].__class__ = _TrimmedPage
    canvas.save()
    return buffer.getvalue()
