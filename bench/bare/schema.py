"""Drop and create the bare baseline's table (``bench_bare_row``); or count its rows."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bare.settings")

import django

django.setup()

from django.db import connection  # noqa: E402

from bare.models import Row  # noqa: E402

if __name__ == "__main__":
    if sys.argv[1:] == ["count"]:
        print(Row.objects.count(), len(set(Row.objects.values_list("id", flat=True))))
    else:
        with connection.schema_editor() as editor:
            if Row._meta.db_table in connection.introspection.table_names():
                editor.delete_model(Row)
            editor.create_model(Row)
        print("created", Row._meta.db_table)
