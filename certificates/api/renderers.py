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
