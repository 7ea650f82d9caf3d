"""``gongzhi verify-timelines``: report every timeline whose history was altered.

Walks every hash-chained event model (every concrete ``ChainedEvent``) and prints each
break. Exits 1 when anything is broken, so it can run from cron or a monitor.
"""

from __future__ import annotations

import sys
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand

from gongzhi.core.models import ChainedEvent
from gongzhi.core.timeline import verify_chains


class Command(BaseCommand):
    help = "Verify the hash chains of every timeline; exit 1 if any was altered."

    def handle(self, *args: Any, **options: Any) -> None:
        broken = 0
        for model in apps.get_models():
            if not issubclass(model, ChainedEvent):
                continue
            checked = model.objects.count()
            for chain_break in verify_chains(model):
                broken += 1
                where = f"{chain_break.stream} #{chain_break.seq}"
                self.stdout.write(f"{model._meta.label}: {where}: {chain_break.problem}")
            self.stdout.write(f"{model._meta.label}: {checked} events checked")
        if broken:
            self.stdout.write(self.style.ERROR(f"{broken} problems found: history was altered."))
            sys.exit(1)
        self.stdout.write(self.style.SUCCESS("Timelines verified: all intact."))
