"""Benchmark: the seal's cost against rendering's, counted in instructions rather than timed.

Run: .venv/bin/python bench/seal_instructions.py   (needs valgrind: apt-get install valgrind)
Prints the instructions executed for one certificate's render (full official layout, as issued:
the visible seal naming the seal) and for one seal (demo seal, EC P-256), and the seal's share of
the render. Valgrind's callgrind counts instructions, so the figures are the same on a busy or a
quiet machine, where timings (bench/certificates.py) drift from one minute to the next; they do not
count what an instruction costs (cache misses), so time is still the target's measure. Each figure
is the difference between a run doing FEW and one doing MANY of the operation, divided by the
difference, so the interpreter's start-up and the imports cancel out. About five minutes: the four
runs go two at a time, under valgrind each is some fifty times slower than without.
"""

import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FEW, MANY = 4, 24


def _django(keys: str) -> None:
    sys.path.insert(0, str(ROOT))
    sys.path.append(str(ROOT / "bench"))
    os.environ["CERTIFICATES_KEY_DIR"] = keys
    os.environ["CERTIFICATES_SIGNING_P12"] = ""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key")
    os.environ.setdefault("DEBUG", "0")
    import django

    django.setup()


def _contents(count: int):
    from dataclasses import replace

    from _certificate_content import content

    from certificates.sealing import configured_sealer

    sealer = configured_sealer()
    return sealer, [replace(content(n), seal_name=sealer.describe().name) for n in range(count)]


def child(kind: str, count: int, folder: str) -> None:
    """Under valgrind: one warm-up, then ``count`` renders or seals."""
    _django(folder)
    from certificates.pdf import render_certificate_pdf

    if kind == "render":
        # Certificates of their own (the renderer caches what repeats: a text's width, a QR code).
        _sealer, contents = _contents(count + 1)
        for item in contents:
            render_certificate_pdf(item)
    else:
        from certificates.sealing import configured_sealer

        sealer = configured_sealer()
        pdfs = [(Path(folder) / f"{n}.pdf").read_bytes() for n in range(count + 1)]
        for pdf in pdfs:
            sealer.seal(pdf, location="Samarinda")


def instructions(kind: str, count: int, folder: str) -> int:
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        __file__,
        "--child",
        kind,
        str(count),
        folder,
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    match = re.search(r"Collected : (\d+)", result.stderr)
    if not match:
        raise RuntimeError(f"no instruction count from valgrind:\n{result.stderr[-2000:]}")
    return int(match.group(1))


def main() -> None:
    folder = tempfile.mkdtemp(prefix="gcio-bench-seal-instructions-")
    _django(folder)
    from certificates.pdf import render_certificate_pdf

    _sealer, contents = _contents(MANY + 1)  # creates the demo seal in folder, once
    for n, item in enumerate(contents):
        (Path(folder) / f"{n}.pdf").write_bytes(render_certificate_pdf(item))
    runs = [(kind, count) for kind in ("render", "seal") for count in (FEW, MANY)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        counts = dict(zip(runs, pool.map(lambda run: instructions(*run, folder), runs), strict=True))
    per = {kind: (counts[(kind, MANY)] - counts[(kind, FEW)]) / (MANY - FEW) for kind in ("render", "seal")}
    print(f"instructions per certificate (callgrind, {MANY} minus {FEW} of each, /{MANY - FEW}):")
    print(f"  render, as issued (full official layout):  {per['render'] / 1e6:7.2f} million")
    print(f"  seal (demo seal, EC P-256):                {per['seal'] / 1e6:7.2f} million")
    print(f"  seal as a share of render:                 {100 * per['seal'] / per['render']:7.1f}%")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        main()
