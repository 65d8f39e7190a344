"""Renderers of the courses API, and the rule that keeps every answer but the file itself JSON."""

from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response


class NegotiationOnlyRenderer(BaseRenderer):
    """A format content negotiation may pick, whose body the view builds or streams itself."""

    #: What the view does instead of rendering, said if a response ever reaches ``render``.
    not_rendered = "this format is answered by the view"

    def render(self, data, accepted_media_type=None, renderer_context=None):  # pragma: no cover - views answer
        raise NotImplementedError(self.not_rendered)


class CSVRenderer(NegotiationOnlyRenderer):
    """Lets content negotiation pick CSV (``Accept: text/csv`` or ``?format=csv``); views stream the body."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"
    not_rendered = "CSV responses are streamed by the view"


class XLSXRenderer(NegotiationOnlyRenderer):
    """Lets content negotiation pick an Excel workbook (``?format=xlsx``); views build the file."""

    media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    format = "xlsx"
    charset = None
    render_style = "binary"
    not_rendered = "XLSX responses are built by the view"


class FileRenderersMixin:
    """For views whose non-JSON renderers only stand for a file the view builds itself.

    Such renderers let content negotiation pick the format (``?format=csv``, ``Accept: text/csv``);
    the view then returns the file as a plain Django response. Any DRF ``Response`` with data met
    on the way out — an error (401/403/404/409) or the OPTIONS metadata — is rendered as JSON with
    DRF's usual shapes, instead of reaching a renderer that cannot render it.
    """

    def finalize_response(self, request, response, *args, **kwargs):
        renderer = getattr(request, "accepted_renderer", None)
        if isinstance(response, Response) and renderer is not None and not isinstance(renderer, JSONRenderer):
            request.accepted_renderer, request.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)
