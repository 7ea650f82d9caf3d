"""Photos are stored without their metadata, upright, and only if they decode (cases.photos)."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from typing import Any

import pytest
from django.utils import translation
from PIL import Image, PngImagePlugin

from gongzhi.cases import services
from gongzhi.cases.errors import InvalidCase
from gongzhi.cases.photos import MAX_PIXELS, clean_photo
from gongzhi.cases.tests.images import photo
from gongzhi.cases.tests.test_loop import submit
from gongzhi.demo.testing import World

GPS_IFD = 0x8825
ORIENTATION = 0x0112
MAKE = 0x010F


@pytest.fixture(autouse=True)
def english() -> Any:
    with translation.override("en"):
        yield


def with_gps(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[MAKE] = "PhoneMaker"
    exif[ORIENTATION] = orientation
    exif[GPS_IFD] = {1: "N", 2: (39.0, 54.0, 27.0), 3: "E", 4: (116.0, 23.0, 50.0)}
    return exif


def reopened(content: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(content))
    image.load()
    return image


@pytest.mark.parametrize("image_format", ["JPEG", "WEBP", "PNG"])
def test_the_position_and_the_phone_are_removed(image_format: str):
    original = photo(image_format, exif=with_gps())
    assert reopened(original).getexif()[MAKE] == "PhoneMaker"  # the test photo has them
    cleaned, extension, content_type = clean_photo(original)
    image = reopened(cleaned)
    assert dict(image.getexif()) == {}
    assert b"PhoneMaker" not in cleaned
    assert (image.format, image.size) == (image_format, (4, 3))
    assert (extension, content_type) == {
        "JPEG": (".jpg", "image/jpeg"),
        "WEBP": (".webp", "image/webp"),
        "PNG": (".png", "image/png"),
    }[image_format]


def test_a_photo_taken_sideways_is_turned_upright():
    cleaned, _ext, _type = clean_photo(photo("JPEG", size=(4, 3), exif=with_gps(orientation=6)))
    assert reopened(cleaned).size == (3, 4)


def test_png_text_chunks_are_removed():
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "我家在幸福小区3号楼")
    out = io.BytesIO()
    Image.new("RGB", (2, 2)).save(out, format="PNG", pnginfo=info)
    cleaned, _ext, _type = clean_photo(out.getvalue())
    assert "幸福小区".encode() not in cleaned
    assert reopened(cleaned).info.get("Comment") is None


@pytest.mark.parametrize(
    "content",
    [
        b"\xff\xd8\xff\xe0" + b"\x00" * 64,  # a JPEG's first bytes, then nothing
        b"\x89PNG\r\n\x1a\n" + b"<script>alert(1)</script>",
        photo("JPEG")[:40],  # cut short
    ],
)
def test_files_that_only_look_like_photos_are_refused(content: bytes):
    with pytest.raises(InvalidCase) as refused:
        clean_photo(content)
    assert refused.value.message == (
        "The photo cannot be read. Attach a JPEG, PNG or WebP photo as the camera saved it."
    )


def test_a_gif_is_refused_even_though_it_decodes():
    out = io.BytesIO()
    Image.new("RGB", (2, 2)).save(out, format="GIF")
    with pytest.raises(InvalidCase) as refused:
        clean_photo(out.getvalue())
    assert refused.value.message == "Only JPEG, PNG and WebP photos can be attached."


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a size without the pixels: what a decompression bomb starts with."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


def test_an_image_too_large_to_decode_safely_is_refused_before_decoding():
    with pytest.raises(InvalidCase) as refused:
        clean_photo(png_header_only(MAX_PIXELS // 1000 + 1, 1000))
    assert refused.value.message == "The photo is too large: at most 40 megapixels."


def test_what_is_stored_and_hashed_is_the_cleaned_photo(world: World):
    case = submit(world)
    original = photo("JPEG", exif=with_gps())
    attachment = services.attach_file(case, actor=world.persona("resident"), content=original)
    stored = attachment.file.read()
    assert stored == clean_photo(original)[0]
    assert b"PhoneMaker" not in stored
    assert attachment.size == len(stored)
    assert attachment.sha256 == hashlib.sha256(stored).hexdigest()
