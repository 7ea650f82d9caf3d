"""Forms of the evaluation pages: they parse input; the services decide what is valid.

Regions are plain numbers here: the view fetches them through
``policies.access_evaluated_region`` (404 for a region outside the person's scope, 403 for
one they see but may not act on), never through the form's choices.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.forms.models import fields_for_model
from django.utils.translation import gettext_lazy as _

from gongzhi.core.errors import InvalidInput
from gongzhi.evaluation.choices import RankingSubject
from gongzhi.evaluation.models import ScoreScheme
from gongzhi.evaluation.periods import parse_month
from gongzhi.evaluation.queries import SCHEME_FIELDS
from gongzhi.territory.models import Region


def region_choices(regions: list[Region]) -> list[tuple[int, str]]:
    """Regions for a select, indented by their depth below the first one."""
    top = min((r.level for r in regions), default=1)
    return [(r.pk, "\u3000" * (r.level - top) + r.name) for r in regions]


class PublishForm(forms.Form):
    region = forms.IntegerField(label=_("Within"), widget=forms.Select)
    month = forms.CharField(
        label=_("Month"),
        max_length=7,
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "2026-03"}),
    )
    subject = forms.ChoiceField(label=_("Rank"), choices=RankingSubject.choices)
    correction_reason = forms.CharField(
        label=_("Why it is corrected"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 2000}),
        help_text=_("Only to publish a ranking again that is published already."),
    )

    def __init__(self, *args: Any, regions: list[Region], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].widget.choices = region_choices(regions)

    def clean_month(self) -> dt.date:
        try:
            return parse_month(self.cleaned_data["month"])
        except InvalidInput as exc:
            raise forms.ValidationError(exc.message) from None


class SchemeForm(forms.Form):
    """Every setting of a score scheme, labelled as the model labels it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields.update(fields_for_model(ScoreScheme, fields=SCHEME_FIELDS))
        for field in self.fields.values():
            field.required = True
