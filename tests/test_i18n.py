"""Translation: catalogues complete and compiled, no template text outside translation."""

import re
from html.parser import HTMLParser
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = sorted(ROOT.glob("*/locale/*/LC_MESSAGES/django.po"))


def test_every_package_has_both_catalogues():
    found = {(p.parts[-5], p.parts[-3]) for p in CATALOGUES}
    for package in ("courses", "assessments", "certificates", "config"):
        assert {(package, "id"), (package, "en")} <= found


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: str(p.relative_to(ROOT)))
def test_catalogue_is_complete_and_compiled(path: Path):
    po = polib.pofile(str(path))
    assert [e.msgid for e in po.untranslated_entries()] == []
    assert [e.msgid for e in po.fuzzy_entries()] == []
    mo = polib.mofile(str(path.with_suffix(".mo")))
    compiled = {(e.msgctxt, e.msgid): (e.msgstr, e.msgstr_plural) for e in mo}
    for entry in po.translated_entries():
        msgstr, plural = compiled[(entry.msgctxt, entry.msgid)]
        if entry.msgid_plural:
            assert {int(k): v for k, v in plural.items()} == {int(k): v for k, v in entry.msgstr_plural.items()}
        else:
            assert msgstr == entry.msgstr


# --- Hard-coded text in templates ---------------------------------------------------------------
# The browser tests only spot untranslated text they can find in the catalogues, so text written
# straight into a template (never passed through gettext) slips past them. This static check reads
# every template of the three apps and reports natural-language text outside translation.

TEMPLATES = sorted(
    path
    for app in ("courses", "assessments", "certificates")
    for pattern in ("templates/**/*.html", "templates/**/*.txt")
    for path in (ROOT / app).glob(pattern)
)

# Proper nouns and acronyms spelled the same in Indonesian and English, so a template may show
# them bare: the programme's name (GCIO), the civil-servant number (NIP), file formats (PDF, CSV,
# ZIP), QR code, API, the regional agency (OPD) and the communication agency (Diskominfo).
ALLOWED_WORDS = frozenset({"GCIO", "NIP", "PDF", "CSV", "ZIP", "QR", "API", "OPD", "Diskominfo"})

# Template syntax that is not literal text, matched the way Django's lexer does (single-line tags),
# except the two blocks whose body is not output as written: comments and blocktranslate.
TEMPLATE_SYNTAX = re.compile(
    r"(?s:{%\s*comment\b.*?%}.*?{%\s*endcomment\s*%})"
    r"|(?s:{%\s*blocktrans(?:late)?\b.*?%}.*?{%\s*endblocktrans(?:late)?\s*%})"
    # The page's CSS class (e.g. "wide"), not text a reader sees.
    r"|{%\s*block\s+main_class\s*%}[\w\s-]*{%\s*endblock\s*%}"
    r"|{%.*?%}|{{.*?}}|{#.*?#}"
)
# A word is a run of letters; tokens with digits or underscores are codes and identifiers, and a
# lone letter is a symbol or an abbreviation that never stands alone in a sentence.
TOKEN = re.compile(r"\w+")
TEXT_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")
# A <button>'s value is the data it submits (its label is its content); an input button shows its value.
BUTTON_INPUT_TYPES = ("submit", "button", "reset")
# Contents never shown as text. Any element marked translate="no" (the HTML attribute that also
# stops browsers from machine-translating it) is skipped too: literal samples such as a file format.
OPAQUE_ELEMENTS = ("script", "style")
VOID_ELEMENTS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
)


def natural_words(text: str) -> list[str]:
    return [token for token in TOKEN.findall(text) if len(token) > 1 and token.isalpha() and token not in ALLOWED_WORDS]


def strip_template_syntax(source: str) -> str:
    """Blank out template tags, variables, comments and translated blocks, keeping line numbers."""
    return TEMPLATE_SYNTAX.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), source)


class _UntranslatedText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str]] = []
        self._skipped: list[list] = []  # [tag, depth] of the element whose contents are skipped

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skipped:
            if tag == self._skipped[-1][0]:
                self._skipped[-1][1] += 1
            return
        attributes = dict(attrs)
        opaque = tag in OPAQUE_ELEMENTS or (attributes.get("translate") or "").lower() == "no"
        if opaque:
            if tag not in VOID_ELEMENTS:
                self._skipped.append([tag, 1])
            return
        checked = list(TEXT_ATTRIBUTES)
        if tag == "input" and (attributes.get("type") or "").lower() in BUTTON_INPUT_TYPES:
            checked.append("value")
        # data-* attributes hold URLs and ids, and also the messages scripts show (data-confirm …):
        # a value with a space in it is a sentence.
        checked += [name for name, value in attributes.items() if name.startswith("data-") and value and " " in value]
        line, _ = self.getpos()
        start_tag = self.get_starttag_text() or ""
        for name in checked:
            value = attributes.get(name)
            if value and natural_words(value):
                at = re.search(rf"\s{re.escape(name)}\s*=", start_tag, re.IGNORECASE)
                offset = start_tag[: at.start()].count("\n") if at else 0
                self.found.append((line + offset, f'{name}="{" ".join(value.split())}"'))

    def handle_endtag(self, tag: str) -> None:
        if self._skipped and tag == self._skipped[-1][0]:
            self._skipped[-1][1] -= 1
            if not self._skipped[-1][1]:
                self._skipped.pop()

    def handle_data(self, data: str) -> None:
        if self._skipped:
            return
        line, _ = self.getpos()
        for number, text in enumerate(data.split("\n"), start=line):
            if natural_words(text):
                self.found.append((number, " ".join(text.split())))


def untranslated_text(source: str, *, html: bool = True) -> list[tuple[int, str]]:
    """(line, text) of every user-visible natural-language text in a template that skips translation."""
    text = strip_template_syntax(source)
    if not html:
        return [(n, " ".join(line.split())) for n, line in enumerate(text.split("\n"), start=1) if natural_words(line)]
    parser = _UntranslatedText()
    parser.feed(text)
    parser.close()
    return parser.found


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_template_text_goes_through_translation(path: Path):
    found = untranslated_text(path.read_text(encoding="utf-8"), html=path.suffix == ".html")
    where = path.relative_to(ROOT)
    assert not found, "text outside {% translate %}:\n" + "\n".join(f"{where}:{n}: {t}" for n, t in found)


def test_the_template_scan_covers_the_three_apps():
    apps = {p.relative_to(ROOT).parts[0] for p in TEMPLATES}
    assert apps == {"courses", "assessments", "certificates"}
    assert any(p.suffix == ".txt" for p in TEMPLATES)


def test_template_scan_reports_hard_coded_text():
    source = (
        "{% load i18n %}\n"
        "<h1>{% translate 'Welcome' %}</h1>\n"
        "<p>{{ count }} participants</p>\n"
        '<input type="text" placeholder="Your name">\n'
        '<input type="submit" value="Send">\n'
        '<a href="/" title="{% translate \'Home\' %}" aria-label="Go home">GCIO</a>\n'
        '<form data-url="/api/v1/x/" data-confirm="Submit now?"></form>\n'
    )
    assert untranslated_text(source) == [
        (3, "participants"),
        (4, 'placeholder="Your name"'),
        (5, 'value="Send"'),
        (6, 'aria-label="Go home"'),
        (7, 'data-confirm="Submit now?"'),
    ]
    assert untranslated_text("{% load i18n %}\nDear {{ name }},\n", html=False) == [(2, "Dear ,")]


def test_template_scan_accepts_translated_text():
    source = (
        "{% load i18n %}{# a note for developers #}\n"
        '<h1 title="{% translate "Course" %}">{% translate "Welcome" %} · {{ name }}</h1>\n'
        "<p>{% blocktranslate count counter=n trimmed %}\n"
        "  {{ counter }} <em>participant</em>{% plural %}{{ counter }} participants\n"
        "{% endblocktranslate %} &mdash; 100% ✓ NIP / OPD (Diskominfo)</p>\n"
        "{% comment %}Draft wording{% endcomment %}\n"
        '<button type="submit" name="action" value="save">{% translate "Save" %}</button>\n'
        '<pre translate="no">nip;full_name\n198503302010011002;Siti</pre>\n'
        "<script>const label = 'not shown';</script><style>p::after { content: 'x'; }</style>\n"
    )
    assert untranslated_text(source) == []
