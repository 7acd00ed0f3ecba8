"""What an uploaded document file must be before it is stored: its type, size and pixels.

The type is read from the content (JPEG, PNG or PDF magic bytes), never from a name or a
header the client chose. Images are decoded with a pixel budget checked from the header
first (a decompression bomb is refused before it is decoded) and re-encoded without
their metadata, so EXIF (camera, GPS position, owner) never reaches storage. A PDF is
kept as sent when it carries no active content (scripts, launch actions, attachments).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from tradeguard.kyc.problems import KycReason

JPEG, PNG, PDF = "image/jpeg", "image/png", "application/pdf"
MAGIC = ((b"\xff\xd8\xff", JPEG), (b"\x89PNG\r\n\x1a\n", PNG), (b"%PDF-", PDF))
PDF_ACTIVE = (b"/JavaScript", b"/JS", b"/Launch", b"/EmbeddedFile", b"/OpenAction")
PDF_END = b"%%EOF"
PDF_TAIL = 1024
FORMATS = {JPEG: "JPEG", PNG: "PNG"}


class UploadRefused(Exception):  # noqa: N818 - a refusal, not a bug
    """The file cannot be stored: why, in a reason code and a sentence."""

    def __init__(self, reason: KycReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True, slots=True)
class CleanFile:
    """A file fit to store: its media type and bytes (images without metadata)."""

    media_type: str
    content: bytes


def clean_upload(content: bytes, *, max_bytes: int, max_pixels: int) -> CleanFile:
    """The file to store, or ``UploadRefused``."""
    if len(content) > max_bytes:
        raise UploadRefused(KycReason.DOCUMENT_TOO_LARGE, f"the file is over {max_bytes} bytes")
    media_type = sniffed_type(content)
    if media_type == PDF:
        return CleanFile(PDF, checked_pdf(content))
    return CleanFile(media_type, reencoded(content, media_type, max_pixels))


def sniffed_type(content: bytes) -> str:
    """JPEG, PNG or PDF by the file's first bytes; anything else is refused."""
    for magic, media_type in MAGIC:
        if content.startswith(magic):
            return media_type
    raise UploadRefused(KycReason.DOCUMENT_TYPE, "send a JPEG, PNG or PDF file")


def checked_pdf(content: bytes) -> bytes:
    """A complete PDF without scripts, launch actions or attachments."""
    if PDF_END not in content[-PDF_TAIL:]:
        raise UploadRefused(KycReason.DOCUMENT_UNREADABLE, "the PDF is incomplete")
    if any(marker in content for marker in PDF_ACTIVE):
        raise UploadRefused(
            KycReason.DOCUMENT_TYPE, "a PDF with scripts, actions or attachments is refused"
        )
    return content


def reencoded(content: bytes, media_type: str, max_pixels: int) -> bytes:
    """The image decoded within ``max_pixels`` and saved again without any metadata."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = _decoded(content, media_type, max_pixels)
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            raise UploadRefused(KycReason.DOCUMENT_UNREADABLE, "the image cannot be read") from None
        except (Image.DecompressionBombWarning, Image.DecompressionBombError):
            raise _too_many_pixels(max_pixels) from None
    output = io.BytesIO()
    image.save(output, format=FORMATS[media_type])
    return output.getvalue()


def _decoded(content: bytes, media_type: str, max_pixels: int) -> Image.Image:
    image: Image.Image = Image.open(io.BytesIO(content), formats=[FORMATS[media_type]])
    width, height = image.size
    if width * height > max_pixels:
        raise _too_many_pixels(max_pixels)
    image.load()
    if image.mode == "P":  # the palette would not survive the copy below
        image = image.convert("RGBA")
    return Image.frombytes(image.mode, image.size, image.tobytes())


def _too_many_pixels(max_pixels: int) -> UploadRefused:
    return UploadRefused(
        KycReason.DOCUMENT_TOO_LARGE, f"the image is over {max_pixels} pixels (refused unread)"
    )
