from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gongzhi.core.redaction import mask_name, redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("请联系我13800138000", "请联系我138****8000"),
        ("电话：0551-62345678", "电话：0551-****78"),
        ("身份证号110101199003071234", "身份证号110101********1234"),
        ("身份证34010219900307123X有问题", "身份证340102********123X有问题"),
        ("邮箱 lin.xiaoyu@example.com", "邮箱 ***@***"),
        ("华东湾社区3号楼2单元501室漏水", "华东湾社区*号楼*单元*室漏水"),
        ("路灯不亮已经3天了", "路灯不亮已经3天了"),
        ("订单号20261127000123", "订单号20261127000123"),
    ],
)
def test_redact(text, expected):
    assert redact(text) == expected


def test_mask_name():
    assert (mask_name("林小雨"), mask_name("王五"), mask_name(""), mask_name(" 欧阳娜娜 ")) == (
        "林**",
        "王*",
        "",
        "欧***",
    )


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True), st.text(max_size=20))
def test_no_mobile_number_survives(number, filler):
    """Any mobile number standing on its own (not inside a longer number) is masked."""
    words = "".join(c for c in filler if not c.isdigit() and not c.isalnum())
    text = words + number + words
    assert number not in redact(text)
