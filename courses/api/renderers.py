"""Renderers of the courses API."""

from rest_framework.renderers import BaseRenderer


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
