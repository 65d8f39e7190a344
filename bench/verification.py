"""Benchmark: certificate verification against /livez and a trivial single-query view, under wrk.

Run: .venv/bin/python bench/verification.py [--certificates 2000] [--seconds 10] [--rounds 3]
Makes a throw-away PostgreSQL database with ``--certificates`` issued certificates (one issued by the
service, the rest copies of its snapshot with their own enrolment, number and code), starts gunicorn
with 2 workers on it (Redis db 8 as the shared cache, or BENCH_CACHE; the verification limit raised
out of the way, since wrk is one client), and runs wrk (Debian's ``wrk`` package) against, in turn:
  livez         GET /livez, the trivial view (no database, no cache);
  trivial       GET /bench/trivial/{code}/, a plain Django view running verification's single SQL
                query and returning its row as JSON (bench/verification_urls.py; not in the product);
  verification  GET /api/v1/verify/{code}/, the real endpoint (throttle, cached payload, contract),
                through config.wsgi as deployed (its lean handler, config/routing.py);
the last two over random valid codes (a wrk Lua script), with every code's answer cached first
(VERIFY_CACHE_SECONDS raised to outlast the run). Each round runs all three back to back and
prints their requests/s and the ratios verification/livez (target >= 0.6) and verification/trivial;
then the medians over the rounds, and the gunicorn workers' CPU time per request of each (which
the machine's other load skews far less than requests/s; database and Redis time not included).
A last run measures verification with the cache emptied just
before it (every code's first request reads the database). Exit status 1 when a request failed.
"""

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from _setup import ROOT, django_on_bench_database

WORK = Path(tempfile.mkdtemp(prefix="gcio-bench-verification-"))
os.environ["MEDIA_ROOT"] = str(WORK / "media")
os.environ["CERTIFICATES_KEY_DIR"] = str(WORK / "keys")
os.environ["CERTIFICATES_SIGNING_P12"] = ""
os.environ["CELERY_BROKER_URL"] = ""
CACHE = os.environ.get("BENCH_CACHE", "redis://127.0.0.1:6379/8")
os.environ["CACHE_URL"] = CACHE

SCRIPT = """
local codes = {}
for line in io.lines("%(codes)s") do codes[#codes + 1] = line end
local prefix = "%(prefix)s"
math.randomseed(%(seed)d)
request = function()
  return wrk.format("GET", prefix .. codes[math.random(#codes)] .. "/")
end
"""


def prepare(count: int) -> list[str]:
    """``count`` valid certificates; returns their codes as displayed."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from certificates.codes import code_display, code_generate
    from certificates.models import Certificate, CertificateSettings
    from certificates.services import certificate_issue
    from courses.models import Cohort, Course, Enrollment, ParticipantProfile
    from tests.courses.enrollment_files import nip_for

    course = Course.objects.create(slug="gcio", title="Pelatihan Government Chief Information Officer (GCIO)")
    CertificateSettings.objects.create(course=course, number_prefix="GCIO-KALTIM", jp=20)
    cohort = Cohort.objects.create(
        course=course, name="Angkatan I 2026", starts_on=timezone.localdate(), ends_on=timezone.localdate()
    )
    password = make_password(None)
    users = get_user_model().objects.bulk_create(
        [get_user_model()(username=nip_for(n), password=password) for n in range(count)]
    )
    profiles = ParticipantProfile.objects.bulk_create(
        [
            ParticipantProfile(user=u, nip=u.username, full_name=f"Peserta Nomor {n}", position="Kepala Bidang")
            for n, u in enumerate(users)
        ]
    )
    enrollments = Enrollment.objects.bulk_create(
        [Enrollment(cohort=cohort, participant=p, completed_at=timezone.now()) for p in profiles]
    )
    # One through the service (PDF, seal, credential): the others copy what it says.
    first = certificate_issue(enrollment_id=enrollments[0].pk)
    snapshot = {
        field.attname: getattr(first, field.attname)
        for field in Certificate._meta.concrete_fields
        if field.attname not in ("id", "enrollment_id", "number", "code", "holder_name", "holder_nip")
    }
    prefix = first.number.rsplit("/", 1)[0]
    Certificate.objects.bulk_create(
        [
            Certificate(
                **snapshot,
                enrollment=enrollment,
                number=f"{prefix}/{n + 1:05d}",
                code=code_generate(),
                holder_name=profile.full_name,
                holder_nip=profile.nip,
            )
            for n, (enrollment, profile) in enumerate(zip(enrollments, profiles, strict=True))
            if n
        ],
        batch_size=1000,
    )
    return [code_display(code) for code in Certificate.objects.values_list("code", flat=True)]


def wrk(base: str, path: str, *, seconds: float, connections: int, script: Path | None = None) -> tuple[float, int]:
    """Requests/s and failed requests (socket errors, non-2xx) of one wrk run."""
    args = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "5s"]
    if script is not None:
        args += ["-s", str(script)]
    out = subprocess.run([*args, base + path], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    failed = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses:\s+(\d+)", out))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if errors:
        failed += sum(int(n) for n in errors.groups())
    return rate, failed


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes ``pids`` have used so far (Linux /proc)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / os.sysconf("SC_CLK_TCK")


def get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def flush_cache() -> None:
    import redis

    redis.Redis.from_url(CACHE).flushdb()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--certificates", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=10, help="length of each wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (one wrk thread)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (Debian: apt-get install -y wrk)", file=sys.stderr)
        return 2

    django_on_bench_database(os.environ.get("BENCH_DATABASE", "gcio_bench_verification"))
    from django.conf import settings

    from tests.processes import BIN, Process, free_port

    codes = prepare(args.certificates)
    codes_file = WORK / "codes.txt"
    codes_file.write_text("\n".join(codes) + "\n", encoding="ascii")
    scripts = {}
    for name, prefix in (("trivial", "/bench/trivial/"), ("verification", "/api/v1/verify/")):
        scripts[name] = WORK / f"{name}.lua"
        scripts[name].write_text(SCRIPT % {"codes": codes_file, "prefix": prefix, "seed": 7}, encoding="ascii")
    paths = {"livez": "/livez", "trivial": "/bench/trivial/", "verification": "/api/v1/verify/"}

    flush_cache()
    port = free_port()
    db = settings.DATABASES["default"]
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST", "DJANGO_SETTINGS"))} | {
        "DJANGO_SETTINGS_MODULE": "bench.verification_settings",
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CACHE_URL": CACHE,
        "DEBUG": "0",
        "SECRET_KEY": "verification-benchmark-secret-key-0123456789",
        "ALLOWED_HOSTS": "127.0.0.1",
        "STATIC_ROOT": str(WORK / "static"),
        # wrk is a single client: lift the per-client verification limit out of the way.
        "VERIFY_RATE_LIMIT": "1000000000/minute",
        # The rounds measure answers served from the cache: keep them there for the whole run (the
        # last run, after emptying the cache, measures the other path: every first request of a code).
        "VERIFY_CACHE_SECONDS": "3600",
    }
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    web = Process(
        [str(BIN / "gunicorn"), "config.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        env,
        WORK / "gunicorn.log",
    )
    base = f"http://127.0.0.1:{port}"
    failures = 0
    try:
        web.wait_for("Booting worker", timeout=60)
        time.sleep(2)  # let both workers boot
        code = random.Random(1).choice(codes)
        status, body = get(f"{base}/api/v1/verify/{code}/")
        assert status == 200 and body["valid"] is True and body["code"] == code, (status, body)
        assert get(f"{base}/bench/trivial/{code}/")[0] == 200
        assert get(f"{base}/api/v1/verify/0000-0000-0000/") == (404, {"valid": False, "status": "not_found"})
        print(
            f"gunicorn, 2 workers, on {base}; {len(codes)} certificates; cache {CACHE}; "
            f"wrk 1 thread, {args.connections} connections, {args.seconds:g} s per run"
        )
        for name, path in paths.items():  # warm-up: connections, the workers' first requests
            failures += wrk(base, path, seconds=2, connections=args.connections, script=scripts.get(name))[1]
        for code in codes:  # every code's answer in the cache, as after a while of real traffic
            failures += get(f"{base}/api/v1/verify/{code}/")[0] != 200
        workers = web.children()
        rows: list[dict[str, float]] = []
        cpu: dict[str, list[float]] = {name: [] for name in paths}
        print(f"{'round':>5} {'livez':>9} {'trivial':>9} {'verif.':>9} {'verif./livez':>13} {'verif./trivial':>15}")
        for n in range(1, args.rounds + 1):
            rates = {}
            # Each round in another order: a load that changes during the round favours no endpoint.
            for name in list(paths)[n % 3 :] + list(paths)[: n % 3]:
                used = cpu_seconds(workers)
                started = time.perf_counter()
                rates[name], failed = wrk(
                    base, paths[name], seconds=args.seconds, connections=args.connections, script=scripts.get(name)
                )
                served = rates[name] * (time.perf_counter() - started)
                cpu[name].append((cpu_seconds(workers) - used) / served * 1e6)
                failures += failed
            rows.append(rates)
            print(
                f"{n:5d} {rates['livez']:9.1f} {rates['trivial']:9.1f} {rates['verification']:9.1f} "
                f"{rates['verification'] / rates['livez']:13.2f} {rates['verification'] / rates['trivial']:15.2f}"
            )
        median = {name: statistics.median(row[name] for row in rows) for name in paths}
        to_livez = statistics.median(row["verification"] / row["livez"] for row in rows)
        to_trivial = statistics.median(row["verification"] / row["trivial"] for row in rows)
        print(
            f"median: livez {median['livez']:.1f} req/s, trivial {median['trivial']:.1f} req/s, "
            f"verification {median['verification']:.1f} req/s; verification/livez {to_livez:.2f} (target >= 0.6), "
            f"verification/trivial {to_trivial:.2f}"
        )
        per = {name: statistics.median(values) for name, values in cpu.items()}
        print(
            f"gunicorn workers' CPU per request (median; the part other load on the machine does not skew): "
            f"livez {per['livez']:.0f} us, trivial {per['trivial']:.0f} us, verification {per['verification']:.0f} us; "
            f"livez/verification {per['livez'] / per['verification']:.2f}, "
            f"trivial/verification {per['trivial'] / per['verification']:.2f}"
        )
        flush_cache()
        cold, failed = wrk(
            base, paths["verification"], seconds=args.seconds, connections=args.connections,
            script=scripts["verification"],
        )  # fmt: skip
        failures += failed
        print(
            f"verification with the cache emptied first: {cold:.1f} req/s over {len(codes)} codes "
            f"({cold / median['livez']:.2f} of livez's median)"
        )
    finally:
        web.stop()
        flush_cache()
        shutil.rmtree(WORK, ignore_errors=True)
    print(f"failed requests: {failures}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
