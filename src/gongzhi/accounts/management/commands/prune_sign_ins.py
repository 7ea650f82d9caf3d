"""``gongzhi prune_sign_ins``: delete sign-in audit events past their retention (once).

For a periodic job (cron, or beside the tallies watcher); see ``accounts.signins``.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from gongzhi.accounts.signins import prune_sign_ins


class Command(BaseCommand):
    help = "Delete sign-in, sign-out and personal token audit events past their retention."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"deleted {prune_sign_ins()} sign-in audit events")
