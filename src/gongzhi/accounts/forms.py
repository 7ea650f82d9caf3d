from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.choices import MembershipRole


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
