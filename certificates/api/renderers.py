"""Renderers of the certificates API."""

from rest_framework.renderers import BaseRenderer


class PDFRenderer(BaseRenderer):
    """Lets content negotiation accept ``Accept: application/pdf``; the view streams the stored file."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):  # pragma: no cover - view streams
        raise NotImplementedError("PDF responses are streamed by the view")


class VCJWTRenderer(BaseRenderer):
    """Lets ``Accept: application/vc+jwt`` through negotiation; the view answers with the stored token."""

    media_type = "application/vc+jwt"
    format = "jwt"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):  # pragma: no cover - view answers
        raise NotImplementedError("credentials are answered by the view")
