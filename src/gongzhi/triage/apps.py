from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TriageConfig(AppConfig):
    name = "gongzhi.triage"
    label = "triage"
    verbose_name = _("Triage")

    def ready(self) -> None:
        from gongzhi.core import refdata

        # Intake keeps the active model in memory (triage.services.propose).
        refdata.watch("triage.ClassifierModel")

        from gongzhi.cases.proposals import (
            register_duplicate_finder,
            register_proposer,
            register_reply_judge,
        )
        from gongzhi.triage.services import (
            duplicates_for_case,
            judge_reply_for_case,
            propose_for_intake,
        )

        register_proposer(propose_for_intake)
        register_duplicate_finder(duplicates_for_case)
        register_reply_judge(judge_reply_for_case)
