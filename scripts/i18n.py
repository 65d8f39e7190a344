"""Refresh the translation catalogues of every app and compile them.

Usage: .venv/bin/python scripts/i18n.py [--check]
Extracts messages (needs GNU gettext's xgettext), fills the English catalogue from the
English source strings, and compiles .mo files with polib. With --check it only reports
untranslated or fuzzy Indonesian entries and exits non-zero if there are any.
"""

import subprocess
import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
# Each pluggable app carries its own catalogue; config holds the project's few strings.
PACKAGES = ("courses", "assessments", "certificates", "config")
LANGS = ("id", "en")


def catalogues() -> list[Path]:
    return sorted(ROOT.glob("*/locale/*/LC_MESSAGES/django.po"))


def extract() -> None:
    django_admin = Path(sys.executable).with_name("django-admin")
    for package in PACKAGES:
        (ROOT / package / "locale").mkdir(exist_ok=True)
        args = [str(django_admin), "makemessages", "--no-obsolete", "--no-location", "-i", "curriculum/*"]
        for lang in LANGS:
            args += ["-l", lang]
        subprocess.run(args, cwd=ROOT / package, check=True)


# Indonesian has no grammatical plural: one form for every count (gettext's own table for "id").
PLURAL_FORMS = {"id": "nplurals=1; plural=0;", "en": "nplurals=2; plural=(n != 1);"}
LANGUAGE_TEAMS = {"id": "Indonesian <id@li.org>", "en": "English <en@li.org>"}


def fill_header(path: Path) -> None:
    """The catalogue's header filled in for real (makemessages leaves gettext's template placeholders)."""
    lang, package = path.parts[-3], path.parts[-5]
    po = polib.pofile(str(path))
    po.header = f"Translations of the {package} app of the GCIO training platform ({lang})."
    po.metadata.update(
        {
            "Project-Id-Version": "gcio-platform",
            "Report-Msgid-Bugs-To": "",
            "Last-Translator": "GCIO platform maintainers",
            "Language-Team": LANGUAGE_TEAMS[lang],
            "Language": lang,
            "Plural-Forms": PLURAL_FORMS[lang],
        }
    )
    po.metadata.pop("PO-Revision-Date", None)
    po.metadata_is_fuzzy = []  # the header is filled in: not a draft
    forms = int(PLURAL_FORMS[lang].split(";")[0].split("=")[1])
    for entry in po:
        if entry.msgid_plural:
            entry.msgstr_plural = {i: entry.msgstr_plural.get(i, "") for i in range(forms)}
    po.save()


def fill_english(path: Path) -> None:
    po = polib.pofile(str(path))
    for entry in po:
        if entry.msgid_plural:
            entry.msgstr_plural = {0: entry.msgid, 1: entry.msgid_plural}
        else:
            entry.msgstr = entry.msgid
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
    po.save()


def problems(path: Path) -> list[str]:
    po = polib.pofile(str(path))
    bad = [e.msgid for e in po.untranslated_entries()] + [e.msgid for e in po.fuzzy_entries()]
    return [f"{path.relative_to(ROOT)}: {msgid!r}" for msgid in bad]


def compile_all() -> None:
    for path in catalogues():
        polib.pofile(str(path)).save_as_mofile(str(path.with_suffix(".mo")))


def main() -> int:
    if "--check" not in sys.argv:
        extract()
        for path in catalogues():
            fill_header(path)
        for path in ROOT.glob("*/locale/en/LC_MESSAGES/django.po"):
            fill_english(path)
        compile_all()
    issues = [line for path in catalogues() for line in problems(path)]
    for line in issues:
        print("untranslated:", line)
    return 1 if issues else 0


if __name__ == "__main__":
    sys.exit(main())
