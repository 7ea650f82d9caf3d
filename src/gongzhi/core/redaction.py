"""One function for every public page, export and log line: remove personal data from text.

Masks mainland mobile and landline numbers, resident ID numbers, e-mail addresses, and
detailed addresses (building / unit / room numbers); names are removed by the callers,
which know which fields hold them. The masks keep the text readable:
13800138000 > 138****8000.
"""

from __future__ import annotations

import re

_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])([1-9]\d{5})(\d{8})(\d{3}[0-9Xx])(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})[- ]?(\d{7,8})(?!\d)")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
# 3号楼 2单元 501室, 12栋, 3幢: the part of an address that points at one home.
_DOOR = re.compile(r"\d+\s*(号楼|栋|幢|单元|室|号房|户)")


def redact(text: str) -> str:
    text = _ID_NUMBER.sub(lambda m: m.group(1) + "********" + m.group(3), text)
    text = _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
    text = _LANDLINE.sub(lambda m: f"{m.group(1)}-****{m.group(2)[-2:]}", text)
    text = _EMAIL.sub("***@***", text)
    return _DOOR.sub(lambda m: "*" + m.group(1), text)


def mask_name(name: str) -> str:
    """林小雨 > 林**; an empty name stays empty."""
    name = name.strip()
    return name[:1] + "*" * (len(name) - 1) if name else ""
