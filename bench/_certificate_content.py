"""Shared by the certificate benchmarks: a full official certificate's content, and best-of-N timing."""

import datetime
import time

ISSUER = "Dinas Komunikasi dan Informatika Provinsi Kalimantan Timur"
SITE = "http://127.0.0.1:8000"


def plain_name(n: int) -> str:
    return f"Siti Rahmawati {n}, S.Kom., M.Si."


def wide_name(n: int) -> str:
    return f"Nguyễn Văn Łukasz {n}"


def content(n: int, name_for=plain_name):
    """Certificate ``n`` with every element of the official layout filled."""
    # Imported here: a benchmark run from bench/ has bench/certificates.py on its path until set up.
    from certificates.pdf import CertificateContent

    return CertificateContent(
        holder_name=name_for(n),
        holder_nip="198503302010011002",
        course_title="Pelatihan Government Chief Information Officer (GCIO)",
        cohort_name="Angkatan I 2026",
        issued_on=datetime.date(2026, 11, 22),
        number=f"GCIO-KALTIM/2026/{n:05d}",
        code="7KQ2-9XW4-M3HD",
        verify_url=f"{SITE}/verify/7KQ2-9XW4-M3HD/",
        issuer=ISSUER,
        holder_position="Kepala Seksi Tata Kelola E-Government",
        holder_unit="Dinas Komunikasi dan Informatika Kabupaten Kutai Kartanegara",
        starts_on=datetime.date(2026, 11, 2),
        ends_on=datetime.date(2026, 11, 20),
        jp=5,
        place="Samarinda",
        signatory_position="Kepala Dinas Komunikasi dan Informatika Provinsi Kalimantan Timur",
        signatory_name="Dr. Andi Pratama, S.Kom., M.T.",
        signatory_nip="19700101 199503 1 001",
        signatory_rank="Pembina Utama Muda (IV/c)",
    )


def best_rate(count: int, work, rounds: int = 3) -> float:
    """Operations per second, best of ``rounds`` (the machine is shared: the best is the least disturbed)."""
    work(0)
    best = 0.0
    for _ in range(rounds):
        started = time.perf_counter()
        for n in range(count):
            work(n)
        best = max(best, count / (time.perf_counter() - started))
    return best
