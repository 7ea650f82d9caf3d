from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from gongzhi.accounts import views as account_views
from gongzhi.config.api import api

admin.site.site_header = "共治 gongzhi"
admin.site.site_title = "共治 gongzhi"

urlpatterns = [
    path("", account_views.home, name="home"),
    path("i18n/setlang/", account_views.switch_language, name="set_language"),
    path("accounts/", include("gongzhi.accounts.urls")),
    path("", include("gongzhi.territory.urls")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]
