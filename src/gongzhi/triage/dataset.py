"""Reading a CSV file of labelled messages.

The file has a header row and a ``label`` column, and either a ``text`` column or ``title``
and ``detail`` columns (the text is then the title followed by the detail, as in the shared
data). An optional ``user`` column (a pseudonymous poster id) lets cross-validation keep one
user's messages together. UTF-8, with or without a byte-order mark.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

from gongzhi.triage.errors import BadDataFile


@dataclass(frozen=True)
class LabelledSet:
    name: str  # the file's name, without its folder
    sha256: str  # of the file's bytes
    texts: list[str]
    labels: list[str]
    users: list[str]

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def source(self) -> dict[str, object]:
        return {"file": self.name, "sha256": self.sha256, "rows": len(self)}


def read_labelled(path: str | Path, *, require_labels: bool = True) -> LabelledSet:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BadDataFile(
            _("Cannot read %(file)s: %(error)s") % {"file": path, "error": exc.strerror}
        ) from exc
    return parse_labelled(raw, name=path.name, require_labels=require_labels)


def parse_labelled(raw: bytes, *, name: str, require_labels: bool = True) -> LabelledSet:
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadDataFile(_("%(file)s is not UTF-8 text.") % {"file": name}) from None
    reader = csv.DictReader(io.StringIO(content, newline=""))
    columns = set(reader.fieldnames or ())
    has_text = "text" in columns or {"title", "detail"} <= columns
    if not has_text or (require_labels and "label" not in columns):
        raise BadDataFile(
            _(
                "%(file)s needs a header with a label column and a text column "
                "(or title and detail columns)."
            )
            % {"file": name}
        )
    texts: list[str] = []
    labels: list[str] = []
    users: list[str] = []
    for row in reader:
        text = (row.get("text") or "").strip()
        if not text:
            text = ((row.get("title") or "") + (row.get("detail") or "")).strip()
        label = (row.get("label") or "").strip()
        if not text or (require_labels and not label):
            raise BadDataFile(
                _("Line %(line)d of %(file)s has no text or no label.")
                % {"line": reader.line_num, "file": name}
            )
        texts.append(text)
        labels.append(label)
        users.append((row.get("user") or "").strip())
    if not texts:
        raise BadDataFile(_("%(file)s has no messages.") % {"file": name})
    return LabelledSet(
        name=name,
        sha256=hashlib.sha256(raw).hexdigest(),
        texts=texts,
        labels=labels,
        users=users,
    )
