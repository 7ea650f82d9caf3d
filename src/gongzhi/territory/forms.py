from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class RegionForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    centre_lat = forms.FloatField(
        label=_("Centre latitude"), required=False, min_value=-90, max_value=90
    )
    centre_lng = forms.FloatField(
        label=_("Centre longitude"), required=False, min_value=-180, max_value=180
    )
    boundary = forms.CharField(
        label=_("Boundary (GeoJSON)"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    reason = forms.CharField(label=_("Reason for the change"), max_length=500, required=False)

    def clean_boundary(self) -> dict[str, Any] | None:
        text = self.cleaned_data["boundary"].strip()
        if not text:
            return None
        try:
            value = json.loads(text)
        except (json.JSONDecodeError, RecursionError):  # RecursionError: nested too deeply
            raise forms.ValidationError(_("This is not valid JSON.")) from None
        if not isinstance(value, dict):
            raise forms.ValidationError(_("A boundary must be a GeoJSON object."))
        return value


class UnitForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    short_name = forms.CharField(label=_("Short name"), max_length=60, required=False)
    phone = forms.CharField(label=_("Public phone"), max_length=30, required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False)
    reason = forms.CharField(label=_("Reason for the change"), max_length=500, required=False)
