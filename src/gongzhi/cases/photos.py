"""Photos people attach, cleaned before they are stored.

A phone photo carries EXIF: the GPS position where it was taken (often the person's home),
the time, the phone's make and serial. Case photos are shown to staff and, when public, to
everyone, so every photo is decoded and written again without its metadata (EXIF, XMP,
comments, text chunks), turned upright first as its EXIF orientation said. Decoding also
refuses files that only look like images, and images so large that decoding them would
exhaust memory (over ``MAX_PIXELS``). The colour profile is kept.
"""

from __future__ import annotations

import io
import warnings
from typing import Any

from django.utils.translation import gettext as _
from PIL import Image, ImageOps

from gongzhi.cases.errors import InvalidCase

MAX_PIXELS = 40_000_000  # a 40-megapixel phone photo; Pillow's own default is 89 M
FORMATS = {
    "JPEG": (".jpg", "image/jpeg"),
    "PNG": (".png", "image/png"),
    "WEBP": (".webp", "image/webp"),
}
JPEG_QUALITY = 90


def clean_photo(content: bytes) -> tuple[bytes, str, str]:
    """The photo without metadata, its file extension and its content type; ``InvalidCase``
    when the bytes are not a JPEG, PNG or WebP image that can be decoded."""
    unreadable = InvalidCase(
        _("The photo cannot be read. Attach a JPEG, PNG or WebP photo as the camera saved it.")
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content)) as opened:
                source_format = opened.format or ""
                if source_format not in FORMATS:
                    raise InvalidCase(_("Only JPEG, PNG and WebP photos can be attached."))
                if opened.width * opened.height > MAX_PIXELS:
                    raise InvalidCase(_("The photo is too large: at most 40 megapixels."))
                opened.load()
                icc = opened.info.get("icc_profile")
                image = ImageOps.exif_transpose(opened)
    except InvalidCase:
        raise
    except (
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombWarning,
        Image.DecompressionBombError,
    ):
        raise unreadable from None
    options: dict[str, Any] = {"icc_profile": icc} if icc else {}
    if source_format == "JPEG":
        options |= {"quality": JPEG_QUALITY, "optimize": True}
    elif source_format == "WEBP":
        options |= {"quality": JPEG_QUALITY}
    out = io.BytesIO()
    image.save(out, format=source_format, **options)
    extension, content_type = FORMATS[source_format]
    return out.getvalue(), extension, content_type
