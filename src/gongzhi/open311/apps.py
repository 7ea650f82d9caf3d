from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Open311Config(AppConfig):
    name = "gongzhi.open311"
    label = "open311"
    verbose_name = _("Open311 GeoReport v2")

    def ready(self) -> None:
        from gongzhi.cases.intake import queued_case_registered
        from gongzhi.open311.services import link_queued_submission

        queued_case_registered.connect(link_queued_submission, dispatch_uid="open311-queued")
