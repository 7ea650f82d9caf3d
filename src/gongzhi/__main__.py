"""The ``gongzhi`` command: Django's manage.py under the project's name.

``gongzhi demo``, ``gongzhi verify-timelines``, ``gongzhi migrate`` ... Hyphenated
command names map to the management command with underscores.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gongzhi.config.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else argv)
    if len(args) > 1 and not args[1].startswith("-"):
        args[1] = args[1].replace("-", "_")
    args[0] = "gongzhi"
    execute_from_command_line(args)


if __name__ == "__main__":
    main()
