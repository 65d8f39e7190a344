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


def paired_rates(count: int, first, second, rounds: int = 5) -> tuple[float, float, float]:
    """Operations per second of ``first`` and ``second`` (best of ``rounds`` each), and the median
    over rounds of second's rate as a share of first's, each round timing both back to back.

    On a shared machine whose speed drifts from one minute to the next, two figures taken minutes
    apart compare the machine as much as the work; a round's pair shares its conditions."""
    first(0), second(0)
    rates: list[tuple[float, float]] = []
    for _ in range(rounds):
        pair = []
        for work in (first, second):
            started = time.perf_counter()
            for n in range(count):
                work(n)
            pair.append(count / (time.perf_counter() - started))
        rates.append((pair[0], pair[1]))
    shares = sorted(b / a for a, b in rates)
    return max(a for a, _ in rates), max(b for _, b in rates), shares[len(shares) // 2]
