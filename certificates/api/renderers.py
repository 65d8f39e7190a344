"""Renderers of the certificates API."""

from courses.api.renderers import NegotiationOnlyRenderer


class PDFRenderer(NegotiationOnlyRenderer):
    """Lets content negotiation accept ``Accept: application/pdf``; the view streams the stored file."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"
    not_rendered = "PDF responses are streamed by the view"


class VCJWTRenderer(NegotiationOnlyRenderer):
    """Lets ``Accept: application/vc+jwt`` through negotiation; the view answers with the stored token."""

    media_type = "application/vc+jwt"
    format = "jwt"
    charset = None
    not_rendered = "credentials are answered by the view"
