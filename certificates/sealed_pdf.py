"""The certificate as issued: its PDF rendered, then sealed with the configured electronic seal."""

from dataclasses import replace

from .pdf import SEAL_PLACEMENT, CertificateContent, render_certificate_pdf
from .sealing import Sealer, configured_sealer


def render_sealed_certificate(content: CertificateContent, *, sealer: Sealer | None = None) -> bytes:
    """The certificate PDF with the issuing body's PAdES seal in ``SEAL_PLACEMENT``, its visible
    part naming the seal (``content.seal_name``, default the sealer's name: a demo seal says so).

    ``sealer`` defaults to ``configured_sealer()`` (which creates the demo seal on first use when no
    key is configured). The rendered part is deterministic, the seal is not (it carries the signing
    time): the bytes returned are the certificate's file, and their SHA-256 is what verification
    compares. Writes nothing but, at most, the demo seal's key files."""
    if not content.sealed:
        raise ValueError("The content says the document is not sealed; render it with render_certificate_pdf.")
    sealer = sealer or configured_sealer()
    if not content.seal_name:
        content = replace(content, seal_name=sealer.describe().name)
    return sealer.seal(render_certificate_pdf(content), placement=SEAL_PLACEMENT, location=content.place)
