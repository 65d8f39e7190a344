"""The GCIO curriculum files as a course: apparatus, attribution, quiz banks and their answer cues."""

import math
import re
from functools import cache
from pathlib import Path

import pytest
import yaml

GCIO = Path(__file__).resolve().parents[2] / "courses" / "curriculum" / "gcio"

# Words that make a statement absolute; a bank where only false statements carry them gives the key away.
ABSOLUTE = re.compile(
    r"\b(selalu|semua\w*|seluruh\w*|setiap|hanya\w*|tidak pernah|pasti|otomatis|mutlak|sepenuhnya"
    r"|tanpa terkecuali|sama sekali|satu-satunya|tidak mungkin|apa pun)\b",
    re.IGNORECASE,
)
# Phrases that ask for recall of the course's own structure rather than understanding.
RECALL_PHRASES = ("urutan modul", "judul")
BANNED = ("kursus", "perubahan besar yang sedang melanda", "rayakan kemenangan kecil", "pimpinan daerah", "di era spbe")
# Verbs that state understanding rather than observable performance.
UNOBSERVABLE_VERBS = ("memahami", "mengetahui", "mengerti", "menyadari")
# Option letters in an explanation point at choices that are shuffled (and may not exist).
OPTION_LETTER = re.compile(r"\b(opsi|pilihan|jawaban)\s+\(?[a-e]\)?(\W|$)|\([a-e]\)", re.IGNORECASE)

# Where each source must be named: lesson key -> strings its text must contain.
ATTRIBUTION = {
    "makna-transformasi-digital": ("Sri Wahyuni", "23 Mei 2023"),
    "bukan-sekadar-alat-tren": ("Sri Wahyuni",),
    "mengapa-daerah-bisa-tertinggal": ("Sri Wahyuni", "Mei 2023"),
    "transformasi-sebagai-ruang-besar": ("Sri Wahyuni",),
    "memahami-kepemimpinan-digital": ("Sri Wahyuni", "tidak mencantumkan nama penulis"),
    "enam-peran-pemimpin-di-media-sosial": ("Deiser", "Newton", "McKinsey", "2013", "latar perusahaan", "analogi"),
    "yang-berubah-dan-yang-tetap": ("Kristanto S Utomo",),
    "bukan-tugas-staf-ti-saja": ("Sri Wahyuni",),
    "komitmen-membangun-budaya-kerja-digital": ("Sri Wahyuni", "@pemprov_kaltim"),
    "memulai-dari-data-dan-tim": ("Kristanto S Utomo",),
    "keamanan-informasi-dan-data-pribadi": ("panduan penyusun pelatihan",),
}
REFERENCE_NAMES = {
    "transformasi-digital": ("Sri Wahyuni",),
    "kepemimpinan-digital": ("Sri Wahyuni", "Deiser", "Newton", "McKinsey", "Kristanto S Utomo"),
    "penerapan-kepemimpinan-digital": ("Sri Wahyuni", "Kristanto S Utomo"),
    "atensi-penerapan": ("Pelindungan Data Pribadi", "Sistem Pemerintahan Berbasis Elektronik", "Satu Data Indonesia"),
}


def words(text: str) -> int:
    """Words a reader reads: whitespace-separated tokens holding a letter or digit (not Markdown marks)."""
    return sum(1 for token in text.split() if re.search(r"\w", token))


def read_lesson(path: Path) -> tuple[dict, str]:
    text = path.read_text(encoding="utf-8")
    front, body = text.split("\n---", 1)
    return yaml.safe_load(front[3:]), body.split("\n", 1)[1]


@cache
def course() -> dict:
    return yaml.safe_load((GCIO / "course.yaml").read_text(encoding="utf-8"))


@cache
def modules() -> tuple[dict, ...]:
    """Each module as its module.yaml, plus ``lesson_bodies`` (key -> (title, body)) and ``quiz``."""
    loaded = []
    for folder in course()["modules"]:
        data = yaml.safe_load((GCIO / folder / "module.yaml").read_text(encoding="utf-8"))
        lessons = {}
        for name in data["lessons"]:
            meta, body = read_lesson(GCIO / folder / name)
            lessons[meta["key"]] = (meta["title"], body)
        quiz = yaml.safe_load((GCIO / folder / "quiz.yaml").read_text(encoding="utf-8"))
        loaded.append({**data, "folder": folder, "lesson_bodies": lessons, "quiz": quiz})
    return tuple(loaded)


def module_ids() -> list[str]:
    return [module["key"] for module in modules()]


def correct(question: dict) -> list[dict]:
    return [choice for choice in question["choices"] if choice.get("correct")]


def share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def cue_rates(questions: list[dict]) -> dict:
    """The measured rates of a bank (or of several banks together)."""
    singles = [q for q in questions if q["kind"] == "single"]
    key_longest = sum(
        1 for q in singles if len(correct(q)[0]["text"]) >= max(len(choice["text"]) for choice in q["choices"])
    )
    statements = [q for q in questions if q["kind"] == "true_false"]
    true_ones = [q for q in statements if correct(q)[0]["key"] == "benar"]
    false_ones = [q for q in statements if correct(q)[0]["key"] == "salah"]
    absolute_true = sum(1 for q in true_ones if ABSOLUTE.search(q["text"]))
    absolute_false = sum(1 for q in false_ones if ABSOLUTE.search(q["text"]))
    multiples = [q for q in questions if q["kind"] == "multiple"]
    return {
        "bank": len(questions),
        "scenario": share(sum(1 for q in questions if q.get("scenario") is True), len(questions)),
        "single_key_longest": share(key_longest, len(singles)),
        "true_false_benar": share(len(true_ones), len(statements)),
        "absolute_in_false": share(absolute_false, len(false_ones)),
        "absolute_in_true": share(absolute_true, len(true_ones)),
        "multiple_right_counts": sorted({len(correct(q)) for q in multiples}),
    }


def all_questions() -> list[dict]:
    return [question for module in modules() for question in module["quiz"]["questions"]]


def reading_words() -> int:
    """Words a participant reads: every lesson and every module recap."""
    lessons = sum(words(body) for module in modules() for _, body in module["lesson_bodies"].values())
    return lessons + sum(words(module.get("recap", "")) for module in modules())


def report() -> str:
    """The measured rates per module and overall, one line each (for assertion messages and by hand)."""
    lines = []
    for module in modules():
        lesson_words = sum(words(body) for _, body in module["lesson_bodies"].values())
        lines.append(f"{module['key']}: words {lesson_words}, {cue_rates(module['quiz']['questions'])}")
    lines.append(f"overall: words {reading_words()} (with recaps), {cue_rates(all_questions())}")
    return "\n".join(lines)


def module_by_key(key: str) -> dict:
    return next(module for module in modules() if module["key"] == key)


# --- course.yaml ---------------------------------------------------------------------------------


def test_course_states_its_audience_and_the_action_plan():
    data = course()
    assert isinstance(data["audience"], str) and "Kepala Perangkat Daerah" in data["audience"]
    plan = data["action_plan"]
    assert plan["title"].strip()
    instructions = plan["instructions"]
    for field in ("Perubahan", "Pemimpin", "Tenggat", "Indikator"):
        assert field in instructions, field
    assert "dr. Ratna" in instructions  # the worked example from the illustrative case
    assert "kasus ilustrasi" in instructions.lower()


def test_jp_equals_its_stated_derivation():
    data = course()
    basis = data["jp_basis"]
    assert basis["rule"] == "1 JP = 45 menit"
    assert basis["reading_words"] == reading_words(), "reading_words must be recounted after editing lessons"
    assert basis["reading_minutes"] == math.ceil(basis["reading_words"] / basis["reading_words_per_minute"])
    lessons = sum(len(module["lesson_bodies"]) for module in modules())
    assert basis["reflection_minutes"] == basis["reflection_minutes_per_lesson"] * lessons
    quizzes = sum(module["quiz"]["time_limit_minutes"] for module in modules())
    assert basis["quiz_minutes"] == quizzes
    total = sum(
        basis[part] for part in ("reading_minutes", "reflection_minutes", "quiz_minutes", "action_plan_minutes")
    )
    assert basis["total_minutes"] == total
    if "terdekat" in basis["rounding"]:
        expected = math.floor(total / 45 + 0.5)
    else:
        assert "ke atas" in basis["rounding"]
        expected = math.ceil(total / 45)
    assert isinstance(data["jp"], int) and data["jp"] == expected


# --- modules and lessons -------------------------------------------------------------------------


@pytest.mark.parametrize("key", module_ids())
def test_module_has_objectives_recap_and_references(key):
    module = module_by_key(key)
    objectives = module["objectives"]
    assert 3 <= len(objectives) <= 5
    for objective in objectives:
        verb = objective.split()[0]
        assert verb.startswith("me") and verb not in UNOBSERVABLE_VERBS, objective
        assert not objective.lower().startswith("mampu")
    assert 80 <= words(module["recap"]) <= 150, words(module["recap"])
    assert module["references"]
    for reference in module["references"]:
        assert {"author", "year", "title", "source", "note"} <= set(reference), reference
        assert all(str(reference[name]).strip() for name in ("author", "year", "title", "source", "note"))
    cited = " ".join(f"{r['author']} {r['title']} {r['source']}" for r in module["references"])
    for name in REFERENCE_NAMES[key]:
        assert name in cited, name


@pytest.mark.parametrize("key", module_ids())
def test_lessons_are_substantial_and_end_with_a_reflection(key):
    lessons = module_by_key(key)["lesson_bodies"]
    assert 4 <= len(lessons) <= 6
    for lesson_key, (_, body) in lessons.items():
        assert 500 <= words(body) <= 900, (lesson_key, words(body))
        last = body.strip().rsplit("\n\n", 1)[-1]
        assert last.startswith("> **Refleksi**"), lesson_key


def test_lesson_keys_are_unique_across_the_course():
    keys = [key for module in modules() for key in module["lesson_bodies"]]
    assert len(keys) == len(set(keys))


def test_illustrative_case_lessons_say_they_are_fiction():
    cases = [
        (key, body) for module in modules() for key, (_, body) in module["lesson_bodies"].items() if "kasus" in key
    ]
    assert len(cases) == len(modules())  # the case advances in every module
    for key, body in cases:
        assert body.lstrip().startswith("> **Kasus ilustrasi.**"), key
        assert "rekaan" in body, key


def test_sources_are_named_where_the_lessons_rest_on_them():
    bodies = {key: body for module in modules() for key, (_, body) in module["lesson_bodies"].items()}
    for key, names in ATTRIBUTION.items():
        for name in names:
            assert name in bodies[key], (key, name)


def test_corrected_glosses_stay_corrected():
    text = "\n".join(body for module in modules() for _, body in module["lesson_bodies"].values())
    loyal = [line for line in text.splitlines() if line.startswith("| Loyal |")]
    assert loyal and all("kepentingan bangsa dan negara" in line and "rahasia jabatan" in line for line in loyal)
    for line in text.splitlines():
        if "musyarakah" in line:
            assert "dalam kurung" in line, line
    assert "kecakapan digital pegawai tidak termasuk aset digital" in text.lower()
    # The keynote's remark on IT staff is reported once, in the news report's own words.
    everything = text + "\n".join(str(module["recap"]) for module in modules())
    remarks = [line for line in everything.splitlines() if "dibebankan" in line]
    assert len(remarks) == 1 and "seringkali selalu dibebankan hanya kepada staf yang menangani IT" in remarks[0]


def test_banned_phrases_are_absent():
    for path in sorted(GCIO.rglob("*")):
        if path.suffix in {".md", ".yaml"}:
            text = path.read_text(encoding="utf-8").lower()
            for phrase in BANNED:
                assert phrase not in text, (path.name, phrase)


# --- quizzes -------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", module_ids())
def test_quiz_bank_and_draw_are_consistent(key):
    module = module_by_key(key)
    quiz = module["quiz"]
    assert (quiz["pass_mark"], quiz["max_attempts"]) == (70, 3)
    assert quiz["shuffle_questions"] is True and quiz["shuffle_choices"] is True
    assert isinstance(quiz["time_limit_minutes"], int) and 10 <= quiz["time_limit_minutes"] <= 20
    questions = quiz["questions"]
    assert len(questions) >= 12, report()
    assert quiz["draw"] == 8
    mix = quiz["draw_mix"]
    assert set(mix) == {"single", "multiple", "true_false"} and sum(mix.values()) == quiz["draw"]
    for kind, n in mix.items():
        assert sum(1 for q in questions if q["kind"] == kind) >= n, kind
    for question in questions:
        assert question.get("lesson") in module["lesson_bodies"], question["key"]
        text = question["text"].lower()
        assert not any(phrase in text for phrase in RECALL_PHRASES), question["key"]
        assert not OPTION_LETTER.search(question["explanation"]), question["key"]
    assert len({q["key"] for q in questions}) == len(questions)


@pytest.mark.parametrize("key", [*module_ids(), "overall"])
def test_answer_cues_stay_below_their_limits(key):
    questions = all_questions() if key == "overall" else module_by_key(key)["quiz"]["questions"]
    rates = cue_rates(questions)
    message = f"{key}: {rates}\n{report()}"
    assert rates["scenario"] >= 0.5, message
    assert rates["single_key_longest"] <= 0.35, message
    if key == "overall":  # a key that is never the longest choice is a cue as well
        assert rates["single_key_longest"] >= 0.1, message
    assert 0.35 <= rates["true_false_benar"] <= 0.65, message
    assert abs(rates["absolute_in_false"] - rates["absolute_in_true"]) <= 0.25, message
    assert len(rates["multiple_right_counts"]) >= (3 if key == "overall" else 2), message


if __name__ == "__main__":
    print(report())
