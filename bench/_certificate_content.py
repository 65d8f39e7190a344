"""Shared by the certificate benchmarks: a full official certificate's content, and best-of-N timing."""

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
    from tests.certificates.official import official_content

    return official_content(holder_name=name_for(n), number=f"GCIO-KALTIM/2026/{n:05d}")


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
