"""Renderers of the courses API, and the rule that keeps every answer but the file itself JSON."""

from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response


class CSVRenderer(BaseRenderer):
    """Lets content negotiation pick CSV (``Accept: text/csv`` or ``?format=csv``); views stream the body."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):  # pragma: no cover - views stream
        raise NotImplementedError("CSV responses are streamed by the view")


class XLSXRenderer(BaseRenderer):
    """Lets content negotiation pick an Excel workbook (``?format=xlsx``); views build the file."""

    media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    format = "xlsx"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):  # pragma: no cover - views build it
        raise NotImplementedError("XLSX responses are built by the view")


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
