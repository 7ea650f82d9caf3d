"""``gongzhi demo``: build (or re-check) the demo city 示范市 and print the demo logins."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from gongzhi.demo.build import DEMO_PASSWORD, FULL, PERSONAS, SMALL, build_demo_city


class Command(BaseCommand):
    help = "Build the demo city 示范市 (idempotent) and print the demo logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--small", action="store_true", help="a tiny city, for tests")
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when any region exists already"
        )
        parser.add_argument(
            "--cases",
            type=int,
            default=None,
            help="historical cases to import (default: 20000 for the full city, 0 with --small)",
        )

    def handle(
        self, *args: Any, small: bool, if_empty: bool, cases: int | None, **options: Any
    ) -> None:
        from gongzhi.territory.models import Region

        if if_empty and Region.objects.exists():
            self.stdout.write("The database already holds regions: demo city not rebuilt.")
        else:
            started = time.monotonic()
            report = build_demo_city(SMALL if small else FULL, cases=cases)
            self.stdout.write(
                f"Demo city 示范市: {report.regions_created} regions, "
                f"{report.units_created} units, "
                f"{report.personas_created} personas created in {time.monotonic() - started:.1f}s."
            )
            self.stdout.write(
                "In the database: "
                + ", ".join(f"{key} {value}" for key, value in report.counts.items())
            )
        self.stdout.write("")
        self.stdout.write(f"Demo logins (password {DEMO_PASSWORD}):")
        for persona in PERSONAS:
            self.stdout.write(f"  {persona.username:<16} {persona.display_name}")
        if not settings.DEMO_LOGINS_ENABLED:
            self.stdout.write(
                self.style.WARNING("Demo logins are disabled because GONGZHI_DEBUG is off.")
            )
        if settings.GONGZHI_ADMIN_TWO_STEP:
            self.stdout.write(
                "The back office (/admin/) first asks city_admin to turn on two-step "
                "verification with an authenticator app; GONGZHI_ADMIN_TWO_STEP=0 make run "
                "skips it."
            )
        self._issue_open311_demo_key()

    def _issue_open311_demo_key(self) -> None:
        """Only hashes of keys are stored, so each run revokes the last demo key and prints a
        new one (see docs/open311.md)."""
        from gongzhi.accounts.services import system_actor
        from gongzhi.demo.build import CITY_CODE
        from gongzhi.open311.services import reissue_client_key
        from gongzhi.territory.models import Unit

        centre = Unit.objects.filter(kind="command_centre", region__code=CITY_CODE).first()
        if centre is not None:
            issued = reissue_client_key(
                unit=centre, name="Open311 demo client", actor=system_actor()
            )
            self.stdout.write("")
            self.stdout.write(f"Open311 demo client key (new each run): {issued.token}")
            self.stdout.write("  e.g. curl 'http://127.0.0.1:8000/open311/v2/services.json'")
