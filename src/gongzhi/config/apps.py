"""Django's admin app on the project's admin site (``config.admin``: one way in, two steps)."""

from __future__ import annotations

from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    default_site = "gongzhi.config.admin.AdminSite"
