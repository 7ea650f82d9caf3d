from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "gongzhi.cases"
    label = "cases"
    verbose_name = _("Cases")

    def ready(self) -> None:
        from gongzhi.core import refdata

        # Reference data kept in memory at intake (core.refdata): categories, time limits.
        refdata.watch("cases.Category", "cases.TimeLimit")
