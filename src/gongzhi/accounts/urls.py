from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from gongzhi.accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("login/code/", views.two_step_login, name="two-step-login"),
    path("me/", views.profile, name="profile"),
    path("me/two-step/", views.two_step_settings, name="two-step"),
    path("me/password/", views.PasswordChangeView.as_view(), name="password"),
    path("me/tokens/<str:key_id>/revoke/", views.revoke_own_token, name="revoke-own-token"),
    path("api-keys/", views.api_keys, name="api-keys"),
    path("api-keys/<str:key_id>/revoke/", views.revoke_api_key, name="revoke-api-key"),
    path("audit/", views.audit_log, name="audit"),
]
