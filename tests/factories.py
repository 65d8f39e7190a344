"""factory_boy factories shared by the tests."""

import datetime
from collections.abc import Sequence

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from assessments.models import Attempt, Choice, Question, QuestionKind, Quiz
from certificates.codes import code_generate
from certificates.models import Certificate, CertificateSettings
from courses.models import Cohort, Course, Enrollment, Lesson, Module, ParticipantProfile, Stage


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("correct horse battery")


class ParticipantProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ParticipantProfile

    # Valid NIPs: born 1980-01-01..28, appointed 2005-01, sex 1, serial from the sequence.
    nip = factory.Sequence(lambda n: f"198001{(n % 28) + 1:02d}200501{1}{n % 1000:03d}")
    user = factory.SubFactory(UserFactory, username=factory.SelfAttribute("..nip"))
    full_name = factory.Faker("name", locale="id_ID")
    unit = "Dinas Komunikasi dan Informatika"
    position = "Kepala Bidang"


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Course
        skip_postgeneration_save = True

    slug = factory.Sequence(lambda n: f"course-{n}")
    title = factory.Sequence(lambda n: f"Course {n}")
    description = "A course."
    published = True

    @factory.post_generation
    def certificate_prefix(course, create, extracted, **kwargs):
        """The certificates app's settings for the course: ``CourseFactory(certificate_prefix="X")``."""
        if create:
            CertificateSettings.objects.create(course=course, number_prefix=extracted or "TEST-PREFIX")


class ModuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Module

    course = factory.SubFactory(CourseFactory)
    key = factory.Sequence(lambda n: f"module-{n}")
    order = factory.Sequence(lambda n: n + 1)
    stage = Stage.TRANSFORMATION
    title = factory.Sequence(lambda n: f"Module {n}")


class LessonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lesson

    module = factory.SubFactory(ModuleFactory)
    key = factory.Sequence(lambda n: f"lesson-{n}")
    order = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"Lesson {n}")
    body = "Some **text**."


class QuizFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Quiz

    module = factory.SubFactory(ModuleFactory)
    title = "Quiz"
    pass_mark = 70
    max_attempts = 3


class QuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Question

    quiz = factory.SubFactory(QuizFactory)
    key = factory.Sequence(lambda n: f"q-{n}")
    order = factory.Sequence(lambda n: n + 1)
    kind = QuestionKind.SINGLE
    text = "Question?"
    explanation = "Because."


class ChoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Choice

    question = factory.SubFactory(QuestionFactory)
    key = factory.Sequence(lambda n: f"c-{n}")
    order = factory.Sequence(lambda n: n + 1)
    text = "Choice"
    is_correct = False


# An action plan as a participant writes it (the form's and the API's values: ``due_on`` as text).
ACTION_PLAN = {
    "change": "Menyatukan antrean aplikasi dan loket di lima puskesmas.",
    "lead": "Kepala Bidang Pelayanan Kesehatan bersama kepala puskesmas.",
    "due_on": "2027-06-30",
    "indicator": "Waktu tunggu turun 30 persen dari kondisi awal bulan pertama.",
}


def action_plan_values(**changes) -> dict:
    """``ACTION_PLAN`` (with ``changes``) as ``action_plan_submit`` takes it: ``due_on`` a date."""
    values = {**ACTION_PLAN, **changes}
    if isinstance(values["due_on"], str):
        values["due_on"] = datetime.date.fromisoformat(values["due_on"])
    return values


def course_with_modules(
    modules: int = 2,
    *,
    stages: Sequence[str] = (),
    lessons: int = 1,
    quiz: dict | None = None,
    questions: int = 0,
    **fields,
) -> Course:
    """A course (``CourseFactory(**fields)``) of ``modules`` modules ordered from 1 (or one a stage of
    ``stages``), each with ``lessons`` lessons ordered from 1 and a quiz (``QuizFactory(**quiz)``) of
    ``questions`` single-choice questions, each with a right and a wrong choice."""
    course = CourseFactory(**fields)
    for order, stage in enumerate(stages or [Stage.TRANSFORMATION] * modules, start=1):
        module = ModuleFactory(course=course, order=order, stage=stage)
        for lesson_order in range(1, lessons + 1):
            LessonFactory(module=module, order=lesson_order)
        module_quiz = QuizFactory(module=module, **(quiz or {}))
        for _ in range(questions):
            question = QuestionFactory(quiz=module_quiz)
            ChoiceFactory(question=question, is_correct=True)
            ChoiceFactory(question=question, is_correct=False)
    return course


class CohortFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cohort

    course = factory.SubFactory(CourseFactory)
    name = factory.Sequence(lambda n: f"Angkatan {n}")
    starts_on = datetime.date(2026, 1, 5)
    ends_on = datetime.date(2026, 3, 27)


class EnrollmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrollment

    participant = factory.SubFactory(ParticipantProfileFactory)
    cohort = factory.SubFactory(CohortFactory)


class AttemptFactory(factory.django.DjangoModelFactory):
    """An attempt in progress at a quiz of the enrollment's course, with no questions drawn (set them to test grading)."""

    class Meta:
        model = Attempt

    quiz = factory.SubFactory(QuizFactory)
    enrollment = factory.SubFactory(EnrollmentFactory, cohort__course=factory.SelfAttribute("...quiz.module.course"))
    number = 1
    started_at = factory.LazyFunction(timezone.now)


class CertificateFactory(factory.django.DjangoModelFactory):
    """A valid certificate as issuing records it: what it says copied from the enrollment, no PDF yet."""

    class Meta:
        model = Certificate

    enrollment = factory.SubFactory(EnrollmentFactory, completed_at=factory.LazyFunction(timezone.now))
    number = factory.Sequence(lambda n: f"TEST-PREFIX/2026/{n + 1:05d}")
    code = factory.LazyFunction(code_generate)
    holder_name = factory.SelfAttribute("enrollment.participant.full_name")
    holder_nip = factory.SelfAttribute("enrollment.participant.nip")
    course_title = factory.SelfAttribute("enrollment.cohort.course.title")
    cohort_name = factory.SelfAttribute("enrollment.cohort.name")
    holder_position = factory.SelfAttribute("enrollment.participant.position")
    holder_unit = factory.SelfAttribute("enrollment.participant.unit")
    period_starts_on = factory.SelfAttribute("enrollment.cohort.starts_on")
    period_ends_on = factory.SelfAttribute("enrollment.cohort.ends_on")
    issued_at = factory.LazyFunction(timezone.now)
