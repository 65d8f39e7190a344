"""Benchmark: the electronic seal's variants and the Open Badges credential, without a database.

Render-only and render + seal (the figures the issue's target is stated in) are in bench/certificates.py,
with the issuing service and the worker, in one run.

Run: .venv/bin/python bench/credentials_and_seal.py [count] [--profile]
Prints, for ``count`` certificates (default 200), the best of 3 rounds:
  1. the seal alone with the demo seal (EC P-256, key kept loaded, room for the CMS set aside), in ms
     per certificate; then, for comparison, a seal made with pyHanko's defaults (SimpleSigner,
     signature size estimated with a throw-away signature) with an EC P-256 and an RSA-2048 key, and
     our sealer with the RSA-2048 key;
  3. credential build + sign (ES256) and verify, in ms per credential (target: build + sign < 1 ms);
  4. checking a returned PDF: seal_validate in process, document_inspect in its bounded child, in ms.
With --profile, where one seal's time goes (pyinstrument over 200 seals: total time per frame, and
the frames with the most time of their own).
"""

import io
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# From bench/, bench/certificates.py would shadow the certificates app.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "bench"))  # after the apps: for the shared bench modules only
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key")

import django  # noqa: E402

django.setup()

from _certificate_content import ISSUER, SITE, best_rate, content  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, rsa  # noqa: E402
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter  # noqa: E402
from pyhanko.sign import fields, signers  # noqa: E402

from certificates import credentials, sealing  # noqa: E402
from certificates.pdf import SEAL_PLACEMENT, render_certificate_pdf  # noqa: E402


def rsa_p12(directory: Path) -> Path:
    from tests.certificates.official import seal_file

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return seal_file(directory / "rsa.p12", key, b"bench", name=b"rsa")


def pyhanko_default_seal(p12: Path, passphrase: bytes):
    """A seal the way pyHanko's documentation shows it: SimpleSigner from the PKCS#12 data, size estimated."""
    signer = signers.SimpleSigner.load_pkcs12_data(p12.read_bytes(), [], passphrase=passphrase)

    def seal(pdf: bytes) -> bytes:
        metadata = signers.PdfSignatureMetadata(
            field_name=sealing.FIELD_NAME,
            reason=sealing.REASON,
            location="Samarinda",
            subfilter=fields.SigSeedSubFilter.PADES,
            md_algorithm="sha256",
        )
        field = fields.SigFieldSpec(sealing.FIELD_NAME, on_page=0, box=SEAL_PLACEMENT.box)
        pdf_signer = signers.PdfSigner(metadata, signer=signer, stamp_style=sealing._STAMP_STYLE, new_field_spec=field)
        return pdf_signer.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)).getvalue()

    return seal


# Steps of a seal, by the function that does each: (file, function) -> label.
SEAL_STEPS = {
    ("incremental_writer.py", "__init__"): "read the PDF (IncrementalPdfFileWriter)",
    ("cms_embedder.py", "apply"): "visible appearance (stamp)",
    ("pdf_signer.py", "digest_tbs_document"): "write the update, hash the byte range",
    ("pdf_cms.py", "async_sign"): "CMS SignedData (asn1crypto), raw signature included",
    ("sealing.py", "sign_raw"): "  of which the raw signature (ECDSA P-256, key kept loaded)",
    ("sealing.py", "seal"): "the whole seal",
}


def seal_steps(seal, pdfs: list[bytes], count: int) -> dict[str, float]:
    """ms per seal in each step (cProfile's cumulative time, which counts a recursive call once)."""
    import cProfile
    import pstats

    profile = cProfile.Profile()
    profile.enable()
    for n in range(count):
        seal(pdfs[n % len(pdfs)])
    profile.disable()
    spent = dict.fromkeys(SEAL_STEPS.values(), 0.0)
    for (file, _line, function), (_cc, _nc, _tt, cumulative, _callers) in pstats.Stats(profile).stats.items():
        step = SEAL_STEPS.get((Path(file).name, function))
        if step is not None:
            spent[step] += cumulative
    return {step: 1000 * seconds / count for step, seconds in spent.items()}


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    count = int(args[0]) if args else 200
    keys = Path(tempfile.mkdtemp(prefix="gcio-bench-keys-"))
    p12 = sealing.demo_seal_ensure(directory=keys, issuer=ISSUER)
    passphrase = (keys / sealing.DEMO_PASSPHRASE_FILE).read_text()
    sealer = sealing.LocalSealer(p12_path=p12, passphrase=passphrase, demo=True)
    rsa_path = rsa_p12(keys)
    rsa_sealer = sealing.LocalSealer(p12_path=rsa_path, passphrase="bench")
    pdfs = [render_certificate_pdf(content(n)) for n in range(count)]

    seal_only = best_rate(count, lambda n: sealer.seal(pdfs[n], location="Samarinda"))
    print(f"Seals, {count} certificates, best of 3 rounds (render-only and render + seal: bench/certificates.py)")
    print(f"  seal alone, demo seal (EC P-256):    {1000 / seal_only:8.2f} ms per certificate")
    small = max(20, count // 10)
    for label, seal in (
        ("pyHanko defaults, EC P-256", pyhanko_default_seal(p12, passphrase.encode())),
        ("pyHanko defaults, RSA-2048", pyhanko_default_seal(rsa_path, b"bench")),
        ("this sealer, RSA-2048", lambda pdf: rsa_sealer.seal(pdf, location="Samarinda")),
    ):
        rate = best_rate(small, lambda n, seal=seal: seal(pdfs[n % count]))
        print(f"  seal alone, {label + ':':28s}{1000 / rate:8.2f} ms per certificate")

    key = ec.generate_private_key(ec.SECP256R1())
    document = credentials.did_document(site_url=SITE, keys=[key])
    from tests.certificates.official import credential_snapshot

    snapshot = credential_snapshot()

    def build_and_sign(n: int) -> str:
        claims = credentials.credential_build(
            snapshot, site_url=SITE, status_index=n, salt=credentials.credential_salt()
        )
        return credentials.credential_sign(claims, key=key)

    token = build_and_sign(1)
    issue_rate = best_rate(2000, build_and_sign)
    verify_rate = best_rate(2000, lambda n: credentials.credential_verify(token, did_document=document))
    status_rate = best_rate(200, lambda n: credentials.status_list_encode(range(0, 131_072, 97)))
    print("Credentials (ES256)")
    print(f"  build + sign:        {1000 / issue_rate:6.3f} ms per credential  (target < 1 ms)")
    print(f"  verify:              {1000 / verify_rate:6.3f} ms per credential")
    print(f"  status list (1,352 of 131,072 set): {1000 / status_rate:6.3f} ms to encode")

    sealed = sealer.seal(pdfs[0], location="Samarinda")
    roots = [sealer.certificate]
    validate_rate = best_rate(100, lambda n: sealing.seal_validate(sealed, trust_roots=roots))
    sealing.document_inspect(sealed, trust_roots=roots)  # starts the forkserver once
    inspect_rate = best_rate(30, lambda n: sealing.document_inspect(sealed, trust_roots=roots))
    print("Checking a returned PDF")
    print(f"  seal_validate (in process):       {1000 / validate_rate:7.2f} ms")
    print(f"  document_inspect (bounded child): {1000 / inspect_rate:7.2f} ms")

    if "--profile" in sys.argv:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.001)
        profiler.start()
        for n in range(200):
            sealer.seal(pdfs[n % count], location="Samarinda")
        profiler.stop()
        total = profiler.output_text(flat=True, flat_time="total", show_all=True, unicode=False, color=False)
        print("\nProfile of 200 seals (pyinstrument), total seconds per frame, top 25:")
        print("\n".join([line for line in total.splitlines() if line[:1].isdigit()][:25]))
        print("\nA seal's time by step (cProfile, 200 seals; it inflates the Python-heavy steps most), ms per seal:")
        steps = seal_steps(lambda pdf: sealer.seal(pdf, location="Samarinda"), pdfs, 200)
        for step, ms in steps.items():
            print(f"  {step:62s}{ms:7.2f}")


if __name__ == "__main__":
    main()
