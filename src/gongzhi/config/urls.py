from __future__ import annotations

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from gongzhi.accounts import views as account_views
from gongzhi.config.api import api
from gongzhi.config.error_handlers import json_method_errors

handler400 = "gongzhi.config.error_handlers.bad_request"
handler404 = "gongzhi.config.error_handlers.page_not_found"
handler500 = "gongzhi.core.availability.server_error"


def api_urls() -> tuple[list[URLPattern | URLResolver], str, str]:
    """The API's URLs, exempt from LoginRequiredMiddleware: the API authenticates every
    operation itself (``auth=`` on the NinjaAPI, deny by default) and answers 401 in JSON
    instead of redirecting to the login page; and a method an endpoint does not offer
    answers 405 in JSON like every other API error."""
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        if isinstance(pattern, URLPattern):
            pattern.callback = json_method_errors(pattern.callback)
            pattern.callback.login_required = False  # type: ignore[attr-defined]
    return patterns, app_name, namespace


urlpatterns = [
    path("", account_views.home, name="home"),
    path("i18n/setlang/", account_views.switch_language, name="set_language"),
    path("accounts/", include("gongzhi.accounts.urls")),
    path("", include("gongzhi.territory.urls")),
    path("cases/", include("gongzhi.cases.urls")),
    path("notices/", include("gongzhi.notifications.urls")),
    path("evaluation/", include("gongzhi.evaluation.urls")),
    path("", include("gongzhi.dashboards.urls")),
    path("api/v1/", api_urls()),
    path("open311/v2/", include("gongzhi.open311.urls")),
    path("admin/", admin.site.urls),
]
