"""The reference data version token (``gongzhi.core.refdata``): one row, no model. The
triggers that change it are installed after every ``migrate`` (``refdata.install``)."""

import secrets
from typing import Any

from django.db import migrations


def forwards(apps: Any, schema_editor: Any) -> None:
    schema_editor.execute(
        "CREATE TABLE core_refdata_version (id integer PRIMARY KEY, token varchar(40) NOT NULL)"
    )
    schema_editor.execute(
        "INSERT INTO core_refdata_version (id, token) VALUES (1, %s)", [secrets.token_hex(16)]
    )


def backwards(apps: Any, schema_editor: Any) -> None:
    from gongzhi.core.refdata import uninstall

    uninstall(schema_editor.connection)
    schema_editor.execute("DROP TABLE core_refdata_version")


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_calendarday"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
