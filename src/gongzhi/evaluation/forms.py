"""Forms of the evaluation pages: they parse input; the services decide what is valid.

Regions are plain numbers here: the view fetches them through
``policies.access_evaluated_region`` (404 for a region outside the person's scope, 403 for
one they see but may not act on), never through the form's choices.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms
from django.forms.models import fields_for_model
from django.utils.translation import gettext_lazy as _

from gongzhi.core.errors import InvalidInput
from gongzhi.evaluation.choices import RankingSubject
from gongzhi.evaluation.models import (
    Indicator,
    IndicatorSource,
    ScoreScheme,
    SubjectKind,
    SystemKind,
)
from gongzhi.evaluation.periods import Period, parse_month
from gongzhi.evaluation.queries import SCHEME_FIELDS
from gongzhi.territory.choices import RegionLevel, UnitKind
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


# --- defining indicator systems (views/systems.py) -------------------------------------------


class SystemForm(forms.Form):
    """The fields of ``assessments.create_system``; the service checks them."""

    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=SystemKind.choices)
    region = forms.IntegerField(label=_("Within"), widget=forms.Select)
    first_month = forms.CharField(
        label=_("First month"),
        max_length=7,
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "2026-01"}),
    )
    last_month = forms.CharField(
        label=_("Last month"),
        max_length=7,
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "2026-12"}),
    )
    subject_kind = forms.ChoiceField(label=_("Assesses"), choices=SubjectKind.choices)
    subject_level = forms.TypedChoiceField(
        label=_("Level of the regions assessed"),
        choices=[("", "—"), *RegionLevel.choices],
        coerce=int,
        empty_value=None,
        required=False,
    )
    subject_unit_kind = forms.ChoiceField(
        label=_("Kind of the units assessed"),
        choices=[("", "—"), *UnitKind.choices],
        required=False,
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 4000}),
    )

    def __init__(self, *args: Any, regions: list[Region], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].widget.choices = region_choices(regions)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, last = data.get("first_month"), data.get("last_month")
        if first and last:
            try:
                data["period"] = Period.parse(first, last)
            except InvalidInput as exc:
                self.add_error("last_month", exc.message)
        return data


RULE_KINDS = [
    ("linear", _("Linear: from the floor (0 points) to the target (all points)")),
    ("thresholds", _("Thresholds: the points of the best step reached")),
    ("deduction", _("Deduction per event")),
]


# An indicator, not a group: it has a rule.
RULED = f"source={IndicatorSource.COMPUTED.value},{IndicatorSource.ENTERED.value}"

# Which fields apply to which choices, for the page to show only those (app.js,
# ``data-show-when``); the service checks every field whatever the page showed.
SHOW_WHEN = {
    "parent": RULED,
    "figure": f"source={IndicatorSource.COMPUTED.value}",
    "higher_is_better": RULED,
    "rule_kind": RULED,
    "floor": f"{RULED};rule_kind=linear",
    "target": f"{RULED};rule_kind=linear",
    "steps": f"{RULED};rule_kind=thresholds",
    "per_event": f"{RULED};rule_kind=deduction",
}


class IndicatorForm(forms.Form):
    """The fields of ``assessments.add_indicator`` / ``update_indicator``, with the scoring
    rule in plain fields instead of JSON; the service checks them all."""

    source = forms.ChoiceField(label=_("Source"), choices=IndicatorSource.choices)
    parent = forms.TypedChoiceField(label=_("Group"), coerce=int, empty_value=None, required=False)
    code = forms.CharField(
        label=_("Code"), max_length=20, help_text=_("Its number in the system, e.g. 1 or 1.2.")
    )
    name = forms.CharField(label=_("Name"), max_length=200)
    criteria = forms.CharField(
        label=_("Scoring criteria"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 4000}),
    )
    weight = forms.CharField(
        label=_("Points"),
        max_length=12,
        help_text=_("A group's points must equal the sum of its indicators' points."),
    )
    figure = forms.ChoiceField(label=_("Platform figure (computed only)"), required=False)
    higher_is_better = forms.TypedChoiceField(
        label=_("Better is"),
        choices=[("1", _("Higher")), ("0", _("Lower"))],
        coerce=lambda v: v == "1",
        required=False,  # not sent for a group, which has no direction
        empty_value=True,  # type: ignore[arg-type]  # stubs say str; Django takes any value
    )
    rule_kind = forms.ChoiceField(
        label=_("Scoring rule"), choices=[("", "—"), *RULE_KINDS], required=False
    )
    floor = forms.CharField(label=_("Floor (linear)"), max_length=30, required=False)
    target = forms.CharField(label=_("Target (linear)"), max_length=30, required=False)
    steps = forms.CharField(
        label=_("Steps (thresholds)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": 2000}),
        help_text=_("One step a line: the value, a space, the points; e.g. 0.95 20."),
    )
    per_event = forms.CharField(
        label=_("Points off per event (deduction)"), max_length=30, required=False
    )

    def __init__(
        self, *args: Any, groups: list[Indicator], figures: dict[str, Any], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        parent = cast(forms.ChoiceField, self.fields["parent"])
        parent.choices = [("", "—"), *((g.pk, f"{g.code} {g.name}") for g in groups)]
        figure = cast(forms.ChoiceField, self.fields["figure"])
        figure.choices = [("", "—"), *figures.items()]
        for name, condition in SHOW_WHEN.items():
            self.fields[name].widget.attrs["data-show-when"] = condition

    def rule(self) -> dict[str, Any]:
        """The rule as ``scoring.parse_rule`` reads it; what is wrong it reports."""
        data = self.cleaned_data
        kind = data.get("rule_kind") or ""
        if kind == "linear":
            return {"kind": kind, "floor": data["floor"], "target": data["target"]}
        if kind == "thresholds":
            lines = [line.replace(",", " ").split() for line in data["steps"].splitlines()]
            return {"kind": kind, "steps": [line for line in lines if line]}
        if kind == "deduction":
            return {"kind": kind, "per_event": data["per_event"]}
        return {}

    @staticmethod
    def initial_for(indicator: Indicator) -> dict[str, Any]:
        """The form's fields for an indicator as it is stored."""
        rule = indicator.rule or {}
        return {
            "source": indicator.source,
            "parent": indicator.parent_id,
            "code": indicator.code,
            "name": indicator.name,
            "criteria": indicator.criteria,
            "weight": indicator.weight.normalize(),
            "figure": indicator.figure,
            "higher_is_better": "1" if indicator.higher_is_better else "0",
            "rule_kind": rule.get("kind", ""),
            "floor": rule.get("floor", ""),
            "target": rule.get("target", ""),
            "steps": "\n".join(f"{v} {p}" for v, p in rule.get("steps", [])),
            "per_event": rule.get("per_event", ""),
        }
