"""The interface speaks Chinese first: the catalogue is complete, compiled, and used."""

from __future__ import annotations

import shutil
from pathlib import Path

import polib
import pytest
from django.test import Client

from gongzhi.core import i18n

ZH_PO = i18n.LOCALE_DIR / "zh_Hans" / "LC_MESSAGES" / "django.po"
ZH_MO = ZH_PO.with_suffix(".mo")
LOGIN = "/accounts/login/"


# --- The shipped Chinese catalogue ----------------------------------------------------------


def test_the_chinese_catalogue_is_found():
    assert ZH_PO in i18n.find_catalogues()


def test_every_chinese_entry_is_translated_and_not_fuzzy():
    po = polib.pofile(str(ZH_PO))
    live = [e for e in po if not e.obsolete]
    assert [e.msgid for e in live if not e.translated()] == []
    assert [e.msgid for e in live if "fuzzy" in e.flags] == []
    assert po.metadata_is_fuzzy in (0, [], False)
    assert po.metadata["Language"] == "zh_Hans"
    assert po.metadata["Plural-Forms"] == "nplurals=1; plural=0;"
    assert [e.msgid for e in live if e.msgid_plural and sorted(e.msgstr_plural) != [0]] == []
    assert len(po.translated_entries()) == len(live)


def test_the_glossary_terms_are_used():
    po = polib.pofile(str(ZH_PO))
    assert po.find("Grid worker").msgstr == "网格员"
    assert po.find("Handler").msgstr == "承办人"
    assert po.find("Administrator").msgstr == "系统管理员"
    assert po.find("Audit log").msgstr == "审计日志"
    assert po.find("Back office").msgstr == "后台管理"
    assert po.find("Street / township").msgstr == "街道/乡镇"
    assert po.find("%(n)s unit").msgstr_plural == {0: "共 %(n)s 个单位"}


def test_the_chinese_mo_matches_its_po():
    assert ZH_MO.exists()
    assert i18n.mo_catalogue(ZH_MO) == i18n.po_catalogue(ZH_PO)


def test_the_check_passes_on_the_shipped_catalogues(capsys):
    assert i18n.check_all() == []
    assert i18n.main(["check"]) == 0
    assert capsys.readouterr().out == "translations complete and compiled\n"


# --- The tool itself, on a copy -------------------------------------------------------------


@pytest.fixture
def locale_copy(tmp_path: Path) -> Path:
    shutil.copytree(i18n.LOCALE_DIR, tmp_path / "locale")
    return tmp_path / "locale"


def _po_in(locale_dir: Path) -> Path:
    return locale_dir / "zh_Hans" / "LC_MESSAGES" / "django.po"


def _edit(po_path: Path, msgid: str, **changes: object) -> None:
    po = polib.pofile(str(po_path))
    entry = po.find(msgid)
    for name, value in changes.items():
        setattr(entry, name, value)
    po.save()


def test_compile_writes_the_mo_only_when_it_changes(locale_copy: Path):
    po = _po_in(locale_copy)
    po.with_suffix(".mo").unlink()
    assert i18n.compile_all(locale_copy) == [po.with_suffix(".mo")]
    assert i18n.compile_all(locale_copy) == []
    assert i18n.mo_catalogue(po.with_suffix(".mo")) == i18n.po_catalogue(po)
    assert i18n.check_all(locale_copy) == []


def test_check_reports_a_missing_mo(locale_copy: Path):
    po = _po_in(locale_copy)
    po.with_suffix(".mo").unlink()
    assert i18n.check_all(locale_copy) == [
        f"{po.with_suffix('.mo')} is missing: run `make messages`"
    ]


def test_check_reports_a_stale_mo_then_compile_fixes_it(locale_copy: Path):
    po = _po_in(locale_copy)
    _edit(po, "Save", msgstr="保存修改")
    assert i18n.check_all(locale_copy) == [
        f"{po.with_suffix('.mo')} is out of date with django.po: run `make messages`"
    ]
    assert i18n.main(["check", "--locale-dir", str(locale_copy)]) == 1
    assert i18n.main(["compile", "--locale-dir", str(locale_copy)]) == 0
    assert i18n.check_all(locale_copy) == []
    assert i18n.mo_catalogue(po.with_suffix(".mo"))[1][("", "Save", "")] == ("保存修改",)


def test_check_ignores_the_extraction_date(locale_copy: Path):
    po_path = _po_in(locale_copy)
    po = polib.pofile(str(po_path))
    po.metadata["POT-Creation-Date"] = "2000-01-01 00:00+0000"
    po.save()
    assert i18n.check_all(locale_copy) == []


def test_check_reports_untranslated_and_fuzzy_entries(locale_copy: Path):
    po_path = _po_in(locale_copy)
    _edit(po_path, "Save", msgstr="")
    _edit(po_path, "Cancel", flags=["fuzzy"])
    i18n.compile_all(locale_copy)
    problems = i18n.check_all(locale_copy)
    # Each problem names the file and line, then the entry (in the catalogue's order).
    assert sorted(p.split(": ", 1)[1] for p in problems) == [
        "'Cancel' is fuzzy",
        "'Save' is untranslated",
    ]
    # Neither reaches the compiled catalogue: Django falls back to the English msgid.
    compiled = i18n.mo_catalogue(po_path.with_suffix(".mo"))[1]
    assert ("", "Save", "") not in compiled
    assert ("", "Cancel", "") not in compiled


def test_check_reports_a_lost_placeholder(locale_copy: Path):
    po_path = _po_in(locale_copy)
    _edit(po_path, "Welcome, %(name)s", msgstr="欢迎您")
    i18n.compile_all(locale_copy)
    problems = i18n.check_all(locale_copy)
    assert len(problems) == 1
    assert problems[0].endswith(": 'Welcome, %(name)s' has placeholders [], expected ['name']")


def test_check_fails_without_catalogues(tmp_path: Path):
    assert i18n.check_all(tmp_path) == [f"no .po catalogue under {tmp_path}"]
    assert i18n.main(["compile", "--locale-dir", str(tmp_path)]) == 1


# --- What people see --------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_login_page_speaks_chinese_by_default():
    response = Client().get(LOGIN)
    html = response.content.decode()
    assert response.status_code == 200
    assert response.headers["Content-Language"] == "zh-hans"
    assert '<html lang="zh-CN">' in html
    assert "<h1>登录</h1>" in html
    assert '<button type="submit" class="primary">登录</button>' in html
    assert "<label>用户名<input" in html
    assert "<label>密码<input" in html
    assert "Log in" not in html


@pytest.mark.django_db
def test_the_language_switch_turns_the_login_page_to_english():
    client = Client()
    response = client.post("/i18n/setlang/", {"language": "en", "next": LOGIN})
    assert response.status_code == 302
    assert response.headers["Location"] == LOGIN
    assert client.cookies["django_language"].value == "en"

    response = client.get(LOGIN)
    html = response.content.decode()
    assert response.headers["Content-Language"] == "en"
    assert '<html lang="en">' in html
    assert "<h1>Log in</h1>" in html
    assert "<label>Username<input" in html
    assert "登录" not in html

    client.post("/i18n/setlang/", {"language": "zh-hans", "next": LOGIN})
    assert "<h1>登录</h1>" in client.get(LOGIN).content.decode()
