from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "gongzhi.accounts"
    label = "accounts"
    verbose_name = _("People and roles")

    def ready(self) -> None:
        from gongzhi.accounts import people, signins, throttle  # noqa: F401 (signal receivers)
