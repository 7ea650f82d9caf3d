from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TriageConfig(AppConfig):
    name = "gongzhi.triage"
    label = "triage"
    verbose_name = _("Triage")

    def ready(self) -> None:
        from gongzhi.cases.proposals import (
            CategoryProposal,
            DuplicateProposal,
            ReplyJudgement,
            register_duplicate_finder,
            register_proposer,
            register_reply_judge,
        )
        from gongzhi.core import refdata

        # Intake keeps the active model in memory (triage.services.propose).
        refdata.watch("triage.ClassifierModel")

        # The hooks import triage.services (scikit-learn, SciPy, jieba: ~110 MB and ~2.5 s of
        # CPU) on first use, so processes that never classify (the clock, the task worker,
        # commands) do not pay for them.
        def propose(text: str) -> CategoryProposal | None:
            from gongzhi.triage.services import propose_for_intake

            return propose_for_intake(text)

        def duplicates(case: object) -> list[DuplicateProposal]:
            from gongzhi.triage.services import duplicates_for_case

            return duplicates_for_case(case)

        def judge(message: str, reply: str) -> ReplyJudgement | None:
            from gongzhi.triage.services import judge_reply_for_case

            return judge_reply_for_case(message, reply)

        register_proposer(propose)
        register_duplicate_finder(duplicates)
        register_reply_judge(judge)
