"""The certificate document: what its page says, where, in which fonts, its QR code, logo, determinism and seal."""

import datetime
import io
from dataclasses import replace

import pypdfium2
import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader

from certificates import pdf, sealing
from certificates.pdf import SEAL_PLACEMENT, CertificateContent, period_indonesian, render_certificate_pdf
from certificates.sealed_pdf import render_sealed_certificate
from tests.certificates.official import certificate_content, ink_in_seal_box, official_content, page_text

CONTENT = official_content()
# Everything as long as a real record can make it.
LONG = replace(
    CONTENT,
    title="SURAT KETERANGAN PELATIHAN",
    holder_name=(
        "Prof. Dr. Ir. Raden Mas Adipati Hadiningrat Kusumawardhana Soerjosoemarno Wirjodiprodjo, "
        "S.H., M.H., M.Kn., Ph.D."
    ),
    holder_position=(
        "Pranata Komputer Ahli Madya pada Sub Koordinator Pengelolaan Infrastruktur Jaringan, Persandian "
        "dan Keamanan Informasi"
    ),
    holder_unit=(
        "Bidang Penyelenggaraan Persandian, Statistik Sektoral dan Infrastruktur Teknologi Informasi dan "
        "Komunikasi, Dinas Komunikasi dan Informatika Kabupaten Penajam Paser Utara"
    ),
    course_title=(
        "Pelatihan Kepemimpinan Digital bagi Government Chief Information Officer (GCIO) Pemerintah Daerah "
        "se-Kalimantan Timur Tahun Anggaran 2026"
    ),
    cohort_name="Angkatan III Gelombang Kedua",
    starts_on=datetime.date(2026, 12, 28),
    ends_on=datetime.date(2027, 1, 3),
    signatory_position=(
        "Plt. Kepala Dinas Komunikasi dan Informatika Provinsi Kalimantan Timur selaku Ketua Dewan "
        "Pengarah Transformasi Digital Daerah"
    ),
    signatory_name="Prof. Dr. Ir. H. Muhammad Faisal Abdurrahman Wahid, S.Kom., M.T., M.Sc., IPU.",
    verify_url="https://pelatihan-gcio.diskominfo.kaltimprov.go.id/verify/ABCD-EFGH-JKMN/",
)
NON_LATIN = ["Nguyễn Thị Ngọc", "Αλέξανδρος Παπαδόπουλος", "Дмитрий Иванов", "Łukasz Żółć"]


def expected_strings(content: CertificateContent) -> list[str]:
    return [
        content.title,
        "Certificate of Training",
        f"Nomor: {content.number}",
        content.issuer.upper(),
        "diberikan kepada",
        "awarded to",
        content.holder_name,
        f"NIP {content.holder_nip}",
        content.holder_position,
        content.holder_unit,
        "telah mengikuti dan dinyatakan LULUS",
        "has completed and PASSED",
        content.course_title,
        f"{content.cohort_name}, tanggal {period_indonesian(content.starts_on, content.ends_on)}, "
        f"selama {content.jp} JP (jam pelajaran)",
        f"{content.place}, 2 Desember 2026",
        content.signatory_position,
        content.signatory_name,
        content.signatory_rank,
        f"NIP {content.signatory_nip}",
        f"Kode verifikasi: {content.code}",
        f"Pindai kode QR atau buka {content.verify_page_url} dan masukkan kode {content.code}.",
        f"Dokumen ini ditandatangani secara elektronik (segel elektronik) oleh {content.issuer}.",
    ]


def text_boxes(data: bytes) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Each run of text on page 1 with its box (left, bottom, right, top), as pdfium lays it out."""
    document = pypdfium2.PdfDocument(data)
    textpage = document[0].get_textpage()
    boxes = []
    for index in range(textpage.count_rects()):
        box = textpage.get_rect(index)
        boxes.append((textpage.get_text_bounded(*box), box))
    return boxes


def overlap(a, b, tolerance=0.5) -> bool:
    return a[0] < b[2] - tolerance and b[0] < a[2] - tolerance and a[1] < b[3] - tolerance and b[1] < a[3] - tolerance


# --- What the page says ------------------------------------------------------------------------


def test_the_text_holds_every_element_of_the_certificate():
    text = page_text(render_certificate_pdf(CONTENT))
    missing = [s for s in expected_strings(CONTENT) if s not in text]
    assert missing == []
    assert "5 JP" in text and "2 s.d. 27 Desember 2026" in text


@pytest.mark.parametrize("name", NON_LATIN)
def test_a_name_outside_latin1_renders_and_extracts_with_every_element(name):
    content = replace(CONTENT, holder_name=name, holder_unit=f"Đơn vị {name}")
    data = render_certificate_pdf(content)
    text = page_text(data)
    assert [s for s in expected_strings(content) if s not in text] == []
    assert name in {t for t, _box in text_boxes(data)}  # pdfium reads the same line back
    fonts = {str(f["/BaseFont"]) for f in PdfReader(io.BytesIO(data)).pages[0]["/Resources"]["/Font"].values()}
    # Every glyph comes from the embedded Source Serif subsets: none is missing, nothing falls back.
    # (Helvetica is ReportLab's initial font, listed but never drawn with.)
    assert fonts - {"/Helvetica"} == {
        "/AAAAAA+SourceSerifPro-Bold",
        "/AAAAAA+SourceSerifPro-Regular",
        "/AAAAAA+SourceSerifPro-It",
    }


def test_a_cjk_name_extracts_and_names_a_cjk_font_for_the_reader_to_supply():
    # Source Serif has no CJK glyphs and no free TrueType CJK font is installable here: the name is
    # drawn in a standard CJK font that PDF readers provide (Adobe's, not embedded), so it still
    # extracts and shows where the reader has that font.
    data = render_certificate_pdf(replace(CONTENT, holder_name="王小明 (Wang Xiaoming)"))
    assert "王小明 (Wang Xiaoming)" in page_text(data)
    fonts = {str(f["/BaseFont"]) for f in PdfReader(io.BytesIO(data)).pages[0]["/Resources"]["/Font"].values()}
    assert any(f.startswith("/STSong-Light") for f in fonts)


def test_the_details_line_shows_only_what_is_known():
    assert pdf.training_details(replace(CONTENT, starts_on=None, ends_on=None, jp=None)) == "Angkatan I 2026"
    assert pdf.training_details(replace(CONTENT, cohort_name="", jp=None)) == "tanggal 2 s.d. 27 Desember 2026"
    minimal = certificate_content(holder_nip="", sealed=False)
    text = page_text(render_certificate_pdf(minimal))
    assert "Siti Rahmawati" in text and "2 Desember 2026" in text
    assert "NIP" not in text and "JP" not in text and "Samarinda" not in text
    assert "ditandatangani secara elektronik" not in text  # not sealed: it does not say so


@pytest.mark.parametrize(
    ("starts_on", "ends_on", "expected"),
    [
        ((2026, 12, 2), (2026, 12, 27), "2 s.d. 27 Desember 2026"),
        ((2026, 11, 28), (2026, 12, 3), "28 November s.d. 3 Desember 2026"),
        ((2026, 12, 28), (2027, 1, 3), "28 Desember 2026 s.d. 3 Januari 2027"),
        ((2026, 12, 2), (2026, 12, 2), "2 Desember 2026"),
    ],
)
def test_the_period_is_written_in_indonesian(starts_on, ends_on, expected):
    assert period_indonesian(datetime.date(*starts_on), datetime.date(*ends_on)) == expected


# --- Where it is -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content", [CONTENT, LONG, replace(LONG, holder_name="Nguyễn " * 30)], ids=["plain", "long", "longer"]
)
def test_no_text_leaves_the_frame_overlaps_other_text_or_the_seal(content):
    data = render_certificate_pdf(content)
    boxes = text_boxes(data)
    inner = 44  # the inner rule of the border
    for text, (left, bottom, right, top) in boxes:
        assert inner < left and right < pdf.PAGE_WIDTH - inner, text
        assert inner < bottom and top < pdf.PAGE_HEIGHT - inner, text
        assert not overlap((left, bottom, right, top), SEAL_PLACEMENT.box), text
    for index, (text, box) in enumerate(boxes):
        for other, other_box in boxes[index + 1 :]:
            assert not overlap(box, other_box), (text, other)
    if content is LONG:
        assert [s for s in expected_strings(content) if s not in page_text(data)] == []


def test_the_layout_is_centred_with_the_qr_bottom_left_and_the_signatory_bottom_right():
    boxes = dict(text_boxes(render_certificate_pdf(CONTENT)))
    name = boxes[CONTENT.holder_name]
    assert abs((name[0] + name[2]) / 2 - pdf.PAGE_WIDTH / 2) < 1
    title = boxes[CONTENT.title]
    assert title[1] > name[3]  # the title above the name
    signatory = boxes[CONTENT.signatory_name]
    assert signatory[0] > pdf.PAGE_WIDTH / 2 and signatory[3] < SEAL_PLACEMENT.box[1]  # right, under the seal
    assert boxes["Samarinda, 2 Desember 2026"][1] > SEAL_PLACEMENT.box[3]  # place and date above it
    code = boxes[CONTENT.code]
    assert code[0] < pdf.PAGE_WIDTH / 3 and code[3] < pdf.PAGE_HEIGHT / 3  # beside the QR code, bottom left


def test_the_qr_code_decodes_to_exactly_the_verification_url():
    for content in (CONTENT, LONG):
        image = pypdfium2.PdfDocument(render_certificate_pdf(content))[0].render(scale=2).to_pil()
        assert [r.text for r in zxingcpp.read_barcodes(image)] == [content.verify_url]


# --- Determinism, logo ---------------------------------------------------------------------------


def test_rendering_is_deterministic_whatever_was_rendered_before():
    first = render_certificate_pdf(CONTENT)
    vietnamese = render_certificate_pdf(replace(CONTENT, holder_name=NON_LATIN[0]))
    render_certificate_pdf(LONG)  # other subsets cached in between
    assert render_certificate_pdf(CONTENT) == first
    assert render_certificate_pdf(replace(CONTENT, holder_name=NON_LATIN[0])) == vietnamese
    assert PdfReader(io.BytesIO(first)).metadata["/GCIOCode"] == "ABCD-EFGH-JKMN"


def test_the_document_information_holds_what_is_true_of_the_certificate_and_nothing_else():
    reader = PdfReader(io.BytesIO(render_certificate_pdf(CONTENT)))
    assert dict(reader.metadata) == {"/Title": f"{CONTENT.title} {CONTENT.number}", "/GCIOCode": "ABCD-EFGH-JKMN"}
    # No fixed creation date (invariant rendering would write 1 January 2000), no empty entries.
    page = reader.pages[0]
    assert not {"/Rotate", "/Trans"} & set(page) and "/ProcSet" not in page["/Resources"]


def logo_png() -> bytes:
    image = Image.new("RGBA", (120, 90), (0, 0, 0, 0))
    image.paste((20, 110, 90, 255), (10, 10, 110, 80))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def image_xobjects(data: bytes) -> list[tuple[int, int]]:
    resources = PdfReader(io.BytesIO(data)).pages[0]["/Resources"]
    xobjects = resources.get("/XObject", {})
    found = []
    for reference in xobjects.values():
        xobject = reference.get_object()
        if xobject["/Subtype"] == "/Image":
            found.append((int(xobject["/Width"]), int(xobject["/Height"])))
    return found


def test_a_logo_is_drawn_as_an_image_and_without_one_the_text_mark(tmp_path):
    with_logo = render_certificate_pdf(replace(CONTENT, issuer_logo=logo_png()))
    assert image_xobjects(with_logo) == [(120, 90)]
    assert "DKIPKT" not in page_text(with_logo)
    path = tmp_path / "logo.png"
    path.write_bytes(logo_png())
    assert render_certificate_pdf(replace(CONTENT, issuer_logo=str(path))) == with_logo

    without = render_certificate_pdf(CONTENT)
    assert image_xobjects(without) == []
    assert page_text(without).startswith("DKIPKT")  # the issuer's initials in the ring, at the top
    assert "DISKOMINFO KALTIM" in page_text(render_certificate_pdf(replace(CONTENT, issuer_mark="DISKOMINFO\nKALTIM")))


# --- Sealing -----------------------------------------------------------------------------------


def empty_seal_fields(data: bytes) -> list[str]:
    """The names of the signature fields on page 1 that hold no signature."""
    annotations = PdfReader(io.BytesIO(data)).pages[0].get("/Annots") or []
    widgets = [a.get_object() for a in annotations]
    return [w["/T"] for w in widgets if w.get("/FT") == "/Sig" and "/V" not in w]


def test_render_sealed_certificate_seals_the_rendered_pdf_where_the_renderer_left_room(sealer):
    unsealed = render_certificate_pdf(replace(CONTENT, seal_name=sealer.describe().name))
    # The page's drawing leaves the rectangle empty; the empty signature field the seal signs is there.
    assert ink_in_seal_box(unsealed, forms=False) == 0
    assert empty_seal_fields(unsealed) == ["SegelElektronik"]
    assert empty_seal_fields(render_certificate_pdf(replace(CONTENT, sealed=False))) == []
    sealed = render_sealed_certificate(CONTENT, sealer=sealer)
    assert sealed.startswith(unsealed)
    assert empty_seal_fields(sealed) == []
    # The visible seal, drawn with the page, names the seal that signs it (the demo seal says so).
    (widget,) = [a.get_object() for a in PdfReader(io.BytesIO(sealed)).pages[0]["/Annots"]]
    appearance = widget["/AP"]["/N"].get_object().get_data()
    assert b"Disegel secara elektronik oleh" in appearance and b"DEMO - segel elektronik lokal" in appearance
    assert b"2 Desember 2026" in appearance
    status = sealing.seal_validate(sealed, trust_roots=[sealer.certificate])
    assert (status.intact, status.trusted, status.valid) == (True, True, True)
    assert ink_in_seal_box(sealed) > 100
    signature = PdfReader(io.BytesIO(sealed)).trailer["/Root"]["/AcroForm"]["/Fields"][0].get_object()["/V"]
    assert signature["/Location"] == "Samarinda"


def test_a_certificate_rendered_for_sealing_is_pdf_2_0_with_its_form_ready_to_sign():
    sealed_content = render_certificate_pdf(CONTENT)
    unsealed_content = render_certificate_pdf(replace(CONTENT, sealed=False))
    assert sealed_content.startswith(b"%PDF-2.0\n") and unsealed_content.startswith(b"%PDF-1.4\n")
    reader = PdfReader(io.BytesIO(sealed_content))
    catalog = reader.trailer["/Root"]
    # The form is in the catalog itself, flagged as a signed form will be; no default /PageMode.
    assert set(catalog) == {"/Type", "/Pages", "/AcroForm"}
    assert not hasattr(catalog.raw_get("/AcroForm"), "idnum")
    form = catalog["/AcroForm"]
    assert form["/SigFlags"] == 3
    (widget,) = [reference.get_object() for reference in form["/Fields"]]
    assert set(widget) == {"/Subtype", "/FT", "/T", "/TU", "/F", "/Rect", "/AP"}
    assert (widget["/FT"], widget["/T"], widget["/F"]) == ("/Sig", "SegelElektronik", 132)
    assert [a.get_object() for a in reader.pages[0]["/Annots"]] == [widget]
    assert set(PdfReader(io.BytesIO(unsealed_content)).trailer["/Root"]) == {"/Type", "/Pages"}


def test_the_page_carries_only_the_fonts_its_text_is_set_in():
    fonts = PdfReader(io.BytesIO(render_certificate_pdf(CONTENT))).pages[0]["/Resources"]["/Font"]
    names = sorted(str(font.get_object()["/BaseFont"]).split("+", 1)[1] for font in fonts.values())
    # No Helvetica: the canvas starts in the certificate's own serif.
    assert names == ["SourceSerifPro-Bold", "SourceSerifPro-It", "SourceSerifPro-Regular"]


def test_render_sealed_certificate_uses_the_configured_seal_by_default(settings, tmp_path):
    settings.CERTIFICATES_KEY_DIR = str(tmp_path)
    settings.CERTIFICATES_SIGNING_P12 = ""
    sealed = render_sealed_certificate(CONTENT)
    assert sealing.seal_validate(sealed, trust_roots=[sealing.configured_sealer().certificate]).valid
    assert (tmp_path / sealing.DEMO_SEAL_FILE).exists()


def test_content_that_says_it_is_unsealed_is_not_sealed(sealer):
    with pytest.raises(ValueError):
        render_sealed_certificate(replace(CONTENT, sealed=False), sealer=sealer)
