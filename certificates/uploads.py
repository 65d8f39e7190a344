"""Reading the PDF someone uploads for document verification, for the API and the page alike."""

from .errors import DocumentMissing
from .sealing import MAX_DOCUMENT_BYTES, DocumentTooLarge

# Room for the multipart framing around the file itself.
_MULTIPART_OVERHEAD = 64 * 1024


def uploaded_document(request) -> bytes:
    """The bytes of the multipart field ``file``, at most 5 MB.

    Refuses a larger body from its Content-Length before anything is parsed or spooled, so an
    oversized upload costs nothing; raises DocumentTooLarge or DocumentMissing (both 400)."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_DOCUMENT_BYTES + _MULTIPART_OVERHEAD:
        raise DocumentTooLarge()
    upload = request.FILES.get("file")
    if upload is None:
        raise DocumentMissing()
    if upload.size > MAX_DOCUMENT_BYTES:
        raise DocumentTooLarge()
    return upload.read(MAX_DOCUMENT_BYTES + 1)
