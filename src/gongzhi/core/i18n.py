r"""Compile and check the translation catalogues with Python only (polib, no GNU gettext).

The user interface speaks Chinese first: every msgid in the code and templates is English,
and ``locale/zh_Hans/LC_MESSAGES/django.po`` holds the Chinese. The workflow, re-runnable
at any time:

1. Extract the messages (developer machine only; needs GNU gettext's ``xgettext`` and
   ``msgmerge``). Existing translations are kept, new msgids arrive with an empty msgstr::

       cd src/gongzhi
       GONGZHI_DEBUG=1 ../../.venv/bin/gongzhi makemessages -l zh_Hans \
           --no-obsolete --ignore 'tests/*'

2. Translate: fill every empty ``msgstr`` (a plural entry has only ``msgstr[0]``, since
   Chinese has ``nplurals=1``), keep placeholders such as ``%(name)s`` intact, use the
   glossary's terms (Region 行政区域, Unit 单位, Grid worker 网格员, Handler 承办人, ...),
   and remove every ``#, fuzzy`` flag once the guess is checked: fuzzy entries are left out
   of the compiled catalogue.

3. Compile: ``make messages``, which runs ``python -m gongzhi.core.i18n compile`` and
   writes each ``django.mo`` next to its ``django.po`` (only when its content changed).

4. Check: ``python -m gongzhi.core.i18n check`` exits non-zero when an entry is untranslated
   or fuzzy, a placeholder was lost, or a ``.mo`` is missing or out of date with its ``.po``.
   The comparison is between the parsed catalogues, never bytes or modification times, so a
   ``.mo`` compiled by GNU ``msgfmt`` passes as well. The test suite runs the same check.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polib

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"

# (msgctxt, msgid, msgid_plural) -> (msgstr,) or the plural forms in index order.
Catalogue = dict[tuple[str, str, str], tuple[str, ...]]

# Written by makemessages, dropped from the .mo by GNU msgfmt, meaningless at run time.
_EXTRACTION_ONLY_HEADERS = frozenset({"POT-Creation-Date"})

_PLACEHOLDER = re.compile(r"%\((\w+)\)[#0 +-]*\d*(?:\.\d+)?[sdifr]")


def find_catalogues(locale_dir: Path = LOCALE_DIR) -> list[Path]:
    """Every ``.po`` file under ``locale_dir``, in a stable order."""
    return sorted(locale_dir.rglob("*.po"))


def mo_path_for(po_path: Path) -> Path:
    return po_path.with_suffix(".mo")


def _key(entry: Any) -> tuple[str, str, str]:
    return (str(entry.msgctxt or ""), str(entry.msgid), str(entry.msgid_plural or ""))


def _value(entry: Any) -> tuple[str, ...]:
    if entry.msgid_plural:
        plural: dict[int, str] = {int(k): str(v) for k, v in entry.msgstr_plural.items()}
        return tuple(plural[index] for index in sorted(plural))
    return (str(entry.msgstr),)


def _metadata(catalogue_file: Any) -> dict[str, str]:
    return {
        str(k): str(v)
        for k, v in catalogue_file.metadata.items()
        if str(k) not in _EXTRACTION_ONLY_HEADERS
    }


def _load_po(po_path: Path) -> Any:
    return polib.pofile(str(po_path), wrapwidth=79)


def po_catalogue(po_path: Path) -> tuple[dict[str, str], Catalogue]:
    """The header and the messages a ``.po`` compiles to: translated, not fuzzy, not obsolete."""
    po = _load_po(po_path)
    entries: Catalogue = {_key(e): _value(e) for e in po.translated_entries()}
    return _metadata(po), entries


def mo_catalogue(mo_path: Path) -> tuple[dict[str, str], Catalogue]:
    """The header and the messages of a compiled ``.mo``."""
    mo = polib.mofile(str(mo_path))
    entries: Catalogue = {_key(e): _value(e) for e in mo}
    return _metadata(mo), entries


def compile_catalogue(po_path: Path) -> bool:
    """Write the ``.mo`` for ``po_path``; return whether the file changed.

    The write is atomic (a temporary file then a rename), so a running server never reads
    half a catalogue.
    """
    data: bytes = bytes(_load_po(po_path).to_binary())
    mo_path = mo_path_for(po_path)
    if mo_path.exists() and mo_path.read_bytes() == data:
        return False
    fd, tmp_name = tempfile.mkstemp(dir=mo_path.parent, prefix=".", suffix=".mo.tmp")
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(data)
        # mkstemp makes the file private; a catalogue is as public as the source.
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, mo_path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return True


def _placeholders(text: str) -> set[str]:
    return set(_PLACEHOLDER.findall(text))


def catalogue_problems(po_path: Path) -> list[str]:
    """Everything wrong with one catalogue, one human-readable line each; empty when fine."""
    po = _load_po(po_path)
    problems: list[str] = []
    if po.metadata_is_fuzzy:
        problems.append(f"{po_path}: the header is marked fuzzy")
    for entry in po:
        if entry.obsolete:
            continue
        where = f"{po_path}:{entry.linenum}: {entry.msgid!r}"
        if "fuzzy" in entry.flags:
            problems.append(f"{where} is fuzzy")
        elif not entry.translated():
            problems.append(f"{where} is untranslated")
        elif "python-format" in entry.flags:
            wanted = _placeholders(entry.msgid) | _placeholders(entry.msgid_plural or "")
            for translation in _value(entry):
                if _placeholders(translation) != wanted:
                    problems.append(
                        f"{where} has placeholders {sorted(_placeholders(translation))}, "
                        f"expected {sorted(wanted)}"
                    )
    mo_path = mo_path_for(po_path)
    if not mo_path.exists():
        problems.append(f"{mo_path} is missing: run `make messages`")
    elif po_catalogue(po_path) != mo_catalogue(mo_path):
        problems.append(f"{mo_path} is out of date with {po_path.name}: run `make messages`")
    return problems


def compile_all(locale_dir: Path = LOCALE_DIR) -> list[Path]:
    """Compile every catalogue; return the ``.mo`` files that changed."""
    return [mo_path_for(po) for po in find_catalogues(locale_dir) if compile_catalogue(po)]


def check_all(locale_dir: Path = LOCALE_DIR) -> list[str]:
    """Every problem of every catalogue under ``locale_dir``."""
    catalogues = find_catalogues(locale_dir)
    if not catalogues:
        return [f"no .po catalogue under {locale_dir}"]
    return [problem for po in catalogues for problem in catalogue_problems(po)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m gongzhi.core.i18n",
        description="Compile or check the gettext catalogues (.po to .mo) with polib.",
    )
    parser.add_argument(
        "command",
        choices=["compile", "check"],
        help="compile: write each .mo; check: fail on untranslated, fuzzy or stale catalogues",
    )
    parser.add_argument(
        "--locale-dir",
        type=Path,
        default=LOCALE_DIR,
        help=f"where the catalogues live (default: {LOCALE_DIR})",
    )
    args = parser.parse_args(argv)
    locale_dir: Path = args.locale_dir
    if args.command == "compile":
        catalogues = find_catalogues(locale_dir)
        if not catalogues:
            sys.stderr.write(f"no .po catalogue under {locale_dir}\n")
            return 1
        changed = compile_all(locale_dir)
        for mo in changed:
            sys.stdout.write(f"compiled {mo}\n")
        sys.stdout.write(f"{len(catalogues)} catalogue(s), {len(changed)} changed\n")
        return 0
    problems = check_all(locale_dir)
    for problem in problems:
        sys.stderr.write(problem + "\n")
    if problems:
        sys.stderr.write(f"{len(problems)} problem(s)\n")
        return 1
    sys.stdout.write("translations complete and compiled\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
