"""Pages of indicator systems (指标体系), assessments and rectification lists (整改清单).
Thin: access, call the service, render."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from gongzhi.accounts.choices import Capability
from gongzhi.accounts.queries import AnyUser, scope_of, units_with
from gongzhi.core.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from gongzhi.evaluation import assessment_policies as policies
from gongzhi.evaluation import assessment_queries as queries
from gongzhi.evaluation import assessments
from gongzhi.evaluation.forms import IndicatorForm, SystemForm
from gongzhi.evaluation.models import (
    RECTIFICATION_STATE_LABELS,
    Indicator,
    IndicatorSource,
    IndicatorSystem,
)
from gongzhi.evaluation.workflow import SystemAction, SystemState, system_allows
from gongzhi.territory.choices import RegionLevel
from gongzhi.territory.models import Region

MAX_UPLOAD = assessments.MAX_EVIDENCE_BYTES


class ScoreForm(forms.Form):
    value = forms.CharField(label=gettext_lazy("Value"), max_length=30)
    evidence = forms.CharField(
        label=gettext_lazy("Evidence"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("What the value rests on: survey, inspection, documents."),
    )
    evidence_reference = forms.CharField(
        label=gettext_lazy("Document number or link"), max_length=300, required=False
    )
    file = forms.FileField(
        label=gettext_lazy("Evidence file (PDF, JPEG or PNG, up to 8 MB)"), required=False
    )


class GenerateForm(forms.Form):
    below_percent = forms.DecimalField(
        label=gettext_lazy("Indicators scoring below this share of their points (%)"),
        min_value=0,
        max_value=100,
        decimal_places=2,
        required=False,
    )
    bottom = forms.IntegerField(
        label=gettext_lazy("The bottom subjects by total"),
        min_value=1,
        max_value=1000,
        required=False,
    )
    deadline = forms.DateField(
        label=gettext_lazy("Deadline"), widget=forms.DateInput(attrs={"type": "date"})
    )


class SubmitForm(forms.Form):
    report = forms.CharField(
        label=gettext_lazy("What was done"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    evidence_reference = forms.CharField(
        label=gettext_lazy("Document number or link"), max_length=300, required=False
    )
    file = forms.FileField(
        label=gettext_lazy("Evidence file (PDF, JPEG or PNG, up to 8 MB)"), required=False
    )


class DecideForm(forms.Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        choices=[
            ("accept", gettext_lazy("Accept: strike it off the list")),
            ("reject", gettext_lazy("Send back for more rectification")),
        ],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=gettext_lazy("Note (required when sending back)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def _upload(form: forms.Form) -> bytes | None:
    upload = form.cleaned_data.get("file")
    if upload is None:
        return None
    if upload.size > MAX_UPLOAD:
        raise InvalidInput(_("An evidence file must be between 1 byte and 8 MB."), field="file")
    data: bytes = upload.read()
    return data


def _show_error(form: forms.Form, error: DomainError) -> None:
    field = error.details.get("field")
    form.add_error(
        field if isinstance(field, str) and field in form.fields else None, error.message
    )


def _is_id(text: str) -> bool:
    """ASCII digits ("²".isdigit() too), few enough for a 64-bit column."""
    return text.isascii() and text.isdigit() and len(text) <= 18


def _require_user(request: HttpRequest) -> None:
    if not policies.can_use_assessments(request.user):
        raise PermissionDenied(_("This page is for those who evaluate or rectify."))


# --- systems -------------------------------------------------------------------------------------


def system_list(request: HttpRequest) -> HttpResponse:
    _require_user(request)
    systems = policies.systems_visible_to(request.user).order_by("-first_month", "name")
    return render(
        request,
        "evaluation/system_list.html",
        {"systems": systems[:200], "can_create": bool(regions_to_define(request.user))},
    )


def regions_to_define(user: AnyUser) -> list[Region]:
    """The regions the person may define indicator systems for (above the grid, whose
    subjects would be nothing), top first."""
    scope = scope_of(user, Capability.MANAGE_EVALUATION)
    if scope.is_empty:
        return []
    return list(
        Region.objects.filter(scope.q("path"), level__lt=RegionLevel.GRID)
        .defer("boundary")
        .order_by("path")
    )


def new_system(request: HttpRequest) -> HttpResponse:
    """Define a draft indicator system; the region comes from the person's own list, so one
    outside it is a form error, never a lookup."""
    _require_user(request)
    regions = regions_to_define(request.user)
    if not regions:
        raise PermissionDenied(_("You may not define indicator systems."))
    initial = {"kind": "annual", "subject_kind": "region", "region": regions[0].pk}
    form = SystemForm(request.POST or None, regions=regions, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        region = next((r for r in regions if r.pk == data["region"]), None)
        if region is None:
            form.add_error("region", _("Choose a region in the list."))
        else:
            try:
                system = assessments.create_system(
                    region,
                    actor=request.user,
                    name=data["name"],
                    kind=data["kind"],
                    period=data["period"],
                    subject_kind=data["subject_kind"],
                    subject_level=data["subject_level"],
                    subject_unit_kind=data["subject_unit_kind"],
                    description=data["description"],
                )
            except DomainError as error:
                _show_error(form, error)
            else:
                messages.success(request, _("Indicator system created. Add its indicators."))
                return redirect("evaluation:system", system_id=system.pk)
    return render(
        request,
        "evaluation/system_form.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


def system_detail(request: HttpRequest, system_id: int) -> HttpResponse:
    system = policies.access_system(request.user, system_id)
    visible = policies.assessments_visible_to(request.user, system)
    indicators = queries.indicators_of(system)
    can_manage = policies.can_manage_system(request.user, system)
    return render(
        request,
        "evaluation/system_detail.html",
        {
            "system": system,
            "indicators": indicators,
            "leaves": [i for i in indicators if not i.is_group],
            "groups": [i for i in indicators if i.is_group],
            "rows": queries.results(system, visible),
            # A draft has no assessments yet: those it would start with, as things are now.
            "subject_count": len(queries.subjects_of(system))
            if system.state == SystemState.DRAFT
            else system.assessments.count(),
            "can_manage": can_manage,
            "can_edit": can_manage and system.state == SystemState.DRAFT,
            "missing": queries.missing_entries(system) if can_manage else None,
            "can_activate": can_manage and system_allows(system.state, SystemAction.ACTIVATE),
            "can_compute": can_manage and system_allows(system.state, SystemAction.COMPUTE),
            "can_close": can_manage and system_allows(system.state, SystemAction.CLOSE),
            "can_generate": policies.can_generate_rectifications(request.user, system),
            "rectification_count": policies.rectifications_visible_to(request.user)
            .filter(system=system)
            .count(),
            "figures": queries.FIGURES,
        },
    )


SYSTEM_ACTIONS = {
    "activate": (assessments.activate_system, gettext_lazy("The assessment has started.")),
    "compute": (assessments.compute_scores, gettext_lazy("Platform indicators recomputed.")),
    "close": (assessments.close_system, gettext_lazy("The assessment is closed.")),
}


@require_POST
def system_action(request: HttpRequest, system_id: int, action: str) -> HttpResponse:
    system = policies.access_system(request.user, system_id, action="manage")
    if action not in SYSTEM_ACTIONS:
        raise NotFound(_("No such action."))
    service, done = SYSTEM_ACTIONS[action]
    try:
        service(system, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, str(done))
    return redirect("evaluation:system", system_id=system.pk)


# --- indicators of a draft system ---------------------------------------------------------------


def _draft_system(request: HttpRequest, system_id: int) -> IndicatorSystem:
    """A system the person manages; its indicators change only while it is a draft."""
    system = policies.access_system(request.user, system_id, action="manage")
    if system.state != SystemState.DRAFT:
        raise Conflict(
            _("Indicators change only while the indicator system is a draft."),
            code="wrong_state",
        )
    return system


def _indicator_form(
    request: HttpRequest, system: IndicatorSystem, initial: dict[str, Any] | None = None
) -> IndicatorForm:
    groups = [i for i in queries.indicators_of(system) if i.is_group]
    return IndicatorForm(
        request.POST or None, groups=groups, figures=queries.FIGURES, initial=initial
    )


def _indicator_fields(system: IndicatorSystem, form: IndicatorForm) -> dict[str, Any]:
    data = form.cleaned_data
    parent = None
    if data["parent"] is not None:
        parent = system.indicators.filter(pk=data["parent"]).first()
        if parent is None:
            raise InvalidInput(_("The group must be a group of this system."), field="parent")
    return {
        "code": data["code"],
        "name": data["name"],
        "weight": data["weight"],
        "source": data["source"],
        "figure": data["figure"],
        "rule": form.rule(),
        "higher_is_better": data["higher_is_better"],
        "parent": parent,
        "criteria": data["criteria"],
    }


def _show_indicator_error(form: IndicatorForm, error: DomainError) -> None:
    """The rule's problems belong to the rule's fields, shown by the rule kind."""
    if error.details.get("field") == "rule":
        form.add_error("rule_kind", error.message)
    else:
        _show_error(form, error)


def _render_indicator_form(
    request: HttpRequest,
    system: IndicatorSystem,
    form: IndicatorForm,
    indicator: Indicator | None = None,
) -> HttpResponse:
    return render(
        request,
        "evaluation/indicator_form.html",
        {"system": system, "form": form, "indicator": indicator},
        status=400 if form.errors else 200,
    )


def new_indicator(request: HttpRequest, system_id: int) -> HttpResponse:
    system = _draft_system(request, system_id)
    form = _indicator_form(request, system, initial={"source": "entered", "higher_is_better": "1"})
    if request.method == "POST" and form.is_valid():
        try:
            assessments.add_indicator(system, actor=request.user, **_indicator_fields(system, form))
        except DomainError as error:
            _show_indicator_error(form, error)
        else:
            messages.success(request, _("Indicator added."))
            return redirect("evaluation:system", system_id=system.pk)
    return _render_indicator_form(request, system, form)


def _indicator_of(system: IndicatorSystem, indicator_id: int) -> Indicator:
    indicator = system.indicators.filter(pk=indicator_id).first()
    if indicator is None:
        raise NotFound(_("No such indicator."))
    return indicator


def edit_indicator(request: HttpRequest, system_id: int, indicator_id: int) -> HttpResponse:
    system = _draft_system(request, system_id)
    indicator = _indicator_of(system, indicator_id)
    form = _indicator_form(request, system, initial=IndicatorForm.initial_for(indicator))
    if request.method == "POST" and form.is_valid():
        try:
            assessments.update_indicator(
                indicator, actor=request.user, **_indicator_fields(system, form)
            )
        except DomainError as error:
            _show_indicator_error(form, error)
        else:
            messages.success(request, _("Indicator saved."))
            return redirect("evaluation:system", system_id=system.pk)
    return _render_indicator_form(request, system, form, indicator)


@require_POST
def remove_indicator(request: HttpRequest, system_id: int, indicator_id: int) -> HttpResponse:
    system = _draft_system(request, system_id)
    indicator = _indicator_of(system, indicator_id)
    try:
        assessments.remove_indicator(indicator, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Indicator %(code)s removed.") % {"code": indicator.code})
    return redirect("evaluation:system", system_id=system.pk)


# --- assessments ---------------------------------------------------------------------------------


def assessment_detail(request: HttpRequest, assessment_id: int) -> HttpResponse:
    assessment = policies.access_assessment(request.user, assessment_id)
    return render(
        request,
        "evaluation/assessment_detail.html",
        {
            "assessment": assessment,
            "system": assessment.system,
            "cells": queries.assessment_cells(assessment),
            "can_assess": policies.can_assess(request.user, assessment),
            "subject_count": assessment.system.assessments.count(),
        },
    )


def enter_score(request: HttpRequest, assessment_id: int, indicator_id: int) -> HttpResponse:
    assessment = policies.access_assessment(request.user, assessment_id, action="assess")
    indicator = assessment.system.indicators.filter(
        pk=indicator_id, source=IndicatorSource.ENTERED
    ).first()
    if indicator is None:
        raise NotFound(_("No such indicator."))
    current = assessment.scores.filter(indicator=indicator).first()
    initial: dict[str, Any] = {}
    if current is not None:
        initial = {
            "value": current.value.normalize() if current.value is not None else "",
            "evidence": current.evidence,
            "evidence_reference": current.evidence_reference,
        }
    form = ScoreForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            assessments.enter_score(
                assessment,
                indicator,
                actor=request.user,
                value=data["value"],
                evidence=data["evidence"],
                evidence_reference=data["evidence_reference"],
                evidence_file=_upload(form),
            )
        except DomainError as error:
            _show_error(form, error)
        else:
            messages.success(request, _("Score saved."))
            return redirect("evaluation:assessment", assessment_id=assessment.pk)
    return render(
        request,
        "evaluation/assessment_score_form.html",
        {
            "assessment": assessment,
            "system": assessment.system,
            "indicator": indicator,
            "current": current,
            "form": form,
        },
    )


# --- rectifications ------------------------------------------------------------------------------


def generate_rectifications(request: HttpRequest, system_id: int) -> HttpResponse:
    system = policies.access_system(request.user, system_id, action="manage")
    form = GenerateForm(request.POST or None, initial={"below_percent": 60})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        below = data["below_percent"]
        try:
            created = assessments.generate_rectifications(
                system,
                actor=request.user,
                deadline=data["deadline"],
                below=None if below is None else below / 100,
                bottom=data["bottom"],
            )
        except DomainError as error:
            if error.details.get("field") == "below":
                form.add_error("below_percent", error.message)
            else:
                _show_error(form, error)
        else:
            messages.success(
                request,
                _("%(count)s items added to the rectification list.") % {"count": len(created)},
            )
            return redirect(f"{reverse('evaluation:rectifications')}?system={system.pk}")
    return render(
        request,
        "evaluation/rectification_generate.html",
        {
            "system": system,
            "form": form,
            "is_closed": system.state == SystemState.CLOSED,
        },
    )


def rectification_list(request: HttpRequest) -> HttpResponse:
    _require_user(request)
    items = policies.rectifications_visible_to(request.user)
    mine = request.GET.get("mine") == "1"
    state = request.GET.get("state", "")
    system_id = request.GET.get("system", "")
    found = queries.rectifications_of(
        items,
        system_id=int(system_id) if _is_id(system_id) else None,
        state=state if state in RECTIFICATION_STATE_LABELS else None,
        unit_ids=units_with(request.user, Capability.RECTIFY) if mine else None,
    )
    page = Paginator(found, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "evaluation/rectification_list.html",
        {
            "page": page,
            "mine": mine,
            "state": state,
            "system_id": system_id,
            "states": list(RECTIFICATION_STATE_LABELS.items()),
            "has_units": bool(units_with(request.user, Capability.RECTIFY)),
        },
    )


def rectification_detail(request: HttpRequest, item_id: int) -> HttpResponse:
    item = policies.access_rectification(request.user, item_id)
    return _detail(request, item, SubmitForm(), DecideForm())


def _detail(
    request: HttpRequest, item: Any, submit_form: SubmitForm, decide_form: DecideForm
) -> HttpResponse:
    return render(
        request,
        "evaluation/rectification_detail.html",
        {
            "item": item,
            "events": queries.events_of(item),
            "can_submit": policies.can_submit_rectification(request.user, item),
            "can_decide": policies.can_decide_rectification(request.user, item),
            "submit_form": submit_form,
            "decide_form": decide_form,
        },
        status=400 if submit_form.errors or decide_form.errors else 200,
    )


@require_POST
def submit_rectification(request: HttpRequest, item_id: int) -> HttpResponse:
    item = policies.access_rectification(request.user, item_id, action="submit")
    form = SubmitForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            assessments.submit_rectification(
                item,
                actor=request.user,
                report=data["report"],
                evidence_reference=data["evidence_reference"],
                evidence_file=_upload(form),
            )
        except DomainError as error:
            _show_error(form, error)
        else:
            messages.success(request, _("Report submitted for acceptance."))
            return redirect("evaluation:rectification", item_id=item.pk)
    return _detail(request, item, form, DecideForm())


@require_POST
def decide_rectification(request: HttpRequest, item_id: int) -> HttpResponse:
    item = policies.access_rectification(request.user, item_id, action="decide")
    form = DecideForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if data["decision"] == "accept":
                assessments.accept_rectification(item, actor=request.user, note=data["note"])
                done = _("Rectification accepted and struck off the list.")
            else:
                assessments.reject_rectification(item, actor=request.user, reason=data["note"])
                done = _("Rectification sent back to the owner unit.")
        except DomainError as error:
            if error.details.get("field") == "reason":
                form.add_error("note", error.message)
            else:
                _show_error(form, error)
        else:
            messages.success(request, done)
            return redirect("evaluation:rectification", item_id=item.pk)
    return _detail(request, item, SubmitForm(), form)


def evidence_file(request: HttpRequest, evidence_id: uuid.UUID) -> FileResponse:
    evidence = policies.access_evidence(request.user, evidence_id)
    response = FileResponse(
        evidence.file.open("rb"),
        content_type=evidence.content_type,
        as_attachment=True,
        filename=f"evidence-{evidence.pk.hex[:8]}{evidence.extension}",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
