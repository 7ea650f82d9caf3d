"""Small real photos for tests (attachments are decoded, so the bytes must be images)."""

from __future__ import annotations

import io

from PIL import Image


def photo(
    image_format: str, *, size: tuple[int, int] = (4, 3), exif: Image.Exif | None = None
) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", size, (200, 120, 40))
    if exif is not None:
        image.save(out, format=image_format, exif=exif)
    else:
        image.save(out, format=image_format)
    return out.getvalue()


PNG = photo("PNG")
JPEG = photo("JPEG")
WEBP = photo("WEBP")
