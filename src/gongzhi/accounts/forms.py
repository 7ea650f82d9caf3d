from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from gongzhi.accounts import signins, throttle
from gongzhi.accounts.choices import MembershipRole


class LoginForm(AuthenticationForm):
    """Django's login form, refusing before the password check while the address has tried
    this account too often (``accounts.throttle``)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("Wrong username or password, or the account cannot log in here."),
    }
    throttled: throttle.LoginThrottled | None = None

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        if isinstance(username, str) and username:
            try:
                signins.check(username, self.request)
            except throttle.LoginThrottled as error:
                self.throttled = error
                raise forms.ValidationError(error.message, code=error.code) from None
        return super().clean()


class CodeForm(forms.Form):
    """A code from an authenticator app (the service checks it)."""

    code = forms.CharField(
        label=pgettext_lazy("two-step verification", "Code"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "autofocus": True}
        ),
        help_text=_("The six digits your authenticator app shows now."),
    )


class MembershipForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    role = forms.ChoiceField(label=_("Role"), choices=[("", "—"), *MembershipRole.choices])
    region_code = forms.CharField(
        label=_("Region code"), max_length=15, help_text=_("The root of the subtree they act over.")
    )
    title = forms.CharField(label=_("Job title"), max_length=100, required=False)


class ApiKeyForm(forms.Form):
    unit_id = forms.IntegerField(label=_("Unit"), widget=forms.Select)
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("Who uses it, e.g. the district hotline system."),
    )

    def __init__(self, *args: Any, unit_choices: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit_id"].widget.choices = unit_choices


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)


class AuditFilterForm(forms.Form):
    """The audit log's filter: one action, or all (a GET form: ``kind`` goes with the pager)."""

    kind = forms.ChoiceField(label=_("Action"), required=False)

    def __init__(self, *args: Any, actions: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kind = self.fields["kind"]
        assert isinstance(kind, forms.ChoiceField)  # noqa: S101 (declared above)
        kind.choices = [("", _("All")), *actions]
