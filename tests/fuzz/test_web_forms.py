"""Every web form, fuzzed: hostile form data from a persona who may use it.

Each URL of the site (``get_resolver()``, less Django's admin, the JSON API and Open311,
which test_api_fuzz.py covers) is declared here exactly once: a ``TARGETS`` row (a form
that takes POST: who may use it, on what, with which valid data and which form parses it),
``GET_ONLY`` (answers 405 to a POST, checked here) or ``POST_READS_NOTHING`` (a page that
answers a POST like a GET, reading nothing from it, checked here). A new view fails
``test_every_url_is_declared`` until it is declared, like tests/test_matrix_coverage.py does
for the permission matrices. Case actions (``/cases/<id>/act/<action>/``) are one row each.

For each form, hypothesis builds bodies from the valid one (fields kept, replaced by
scripts, SQL metacharacters, control characters, long text or wrong types, left out, or a
field added; sometimes sent as raw bytes with broken UTF-8) and posts them, each inside a
savepoint that is rolled back, so every example starts from the same state. The response
must be one of:

- a redirect: a success only if the view's own form accepts what Django parsed; a redirect
  carrying an error message changed nothing;
- 200: the page again; if the input was invalid, with the form's errors and nothing changed;
- a 4xx page with a message a person can read, and nothing changed;

never a 5xx. "Nothing changed" compares a snapshot of every table a form writes to (with
the audit and timeline streams every service appends to) before and after.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.messages import constants as message_levels
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import QuerySet
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from hypothesis import given, note
from hypothesis import strategies as st

from gongzhi.accounts import signins, two_step
from gongzhi.accounts.forms import ApiKeyForm, CodeForm, MembershipForm, ReasonForm
from gongzhi.accounts.models import ApiKey, Membership, User
from gongzhi.accounts.services import issue_api_key, issue_personal_token
from gongzhi.accounts.tests.totp import code_for
from gongzhi.cases import pages
from gongzhi.cases.forms import SubmitForm
from gongzhi.cases.models import Case, CaseAttachment, CaseEvent, CaseRequest
from gongzhi.cases.tests.images import PNG
from gongzhi.cases.views import ACTIONS
from gongzhi.core.models import AuditEvent
from gongzhi.demo.build import DEMO_PASSWORD
from gongzhi.demo.testing import GRID_1, World, client_for
from gongzhi.evaluation.assessment_queries import FIGURES, indicators_of
from gongzhi.evaluation.forms import IndicatorForm, PublishForm, SchemeForm, SystemForm
from gongzhi.evaluation.models import (
    IndicatorScore,
    IndicatorSystem,
    Ranking,
    RectificationEvent,
    RectificationItem,
    ScoreScheme,
)
from gongzhi.evaluation.views import systems as system_views
from gongzhi.evaluation.views.rankings import regions_to_publish
from gongzhi.notifications.models import Notice
from gongzhi.territory.forms import RegionForm, UnitForm
from gongzhi.territory.models import Region, Unit
from tests.fuzz.payloads import bounded, form_data
from tests.test_permission_matrix_assessments import Ctx as SystemCtx
from tests.test_permission_matrix_assessments import (
    active,
    closed,
    deadline,
    draft,
    indicator_form,
    listed,
    new_system_form,
    submitted,
)
from tests.test_permission_matrix_case_views import at, duplicate, suspended, with_extension_request
from tests.test_permission_matrix_evaluation import SCHEME_FORM

EXAMPLES = 4

PDF = b"%PDF-1.7\n" + b"0" * 32


class Upload:
    """A file in the valid data, made anew for each post (an upload is read once)."""

    def __init__(self, name: str, content: bytes, content_type: str) -> None:
        self.name, self.content, self.content_type = name, content, content_type

    def make(self) -> SimpleUploadedFile:
        return SimpleUploadedFile(self.name, self.content, self.content_type)

    def __repr__(self) -> str:
        return f"Upload({self.name!r})"


# --- What a form may change ----------------------------------------------------------------------


def snapshot() -> tuple[Any, ...]:
    """Every table a form writes to, and the audit and timeline streams every service appends
    to (ARCHITECTURE.md, rule 1), so an invisible write shows too."""
    return (
        # Sign-ins (and failed ones) are recorded on purpose, like LoginFailure rows.
        AuditEvent.objects.exclude(subject_type__in=signins.SUBJECT_TYPES).count(),
        CaseEvent.objects.count(),
        RectificationEvent.objects.count(),
        sorted(Case.objects.values_list("number", "state", "version", "is_supervised")),
        sorted(CaseRequest.objects.values_list("pk", "state")),
        CaseAttachment.objects.count(),
        sorted((str(k), r is None) for k, r in ApiKey.objects.values_list("pk", "revoked_at")),
        sorted(Membership.objects.filter(is_active=True).values_list("pk", flat=True)),
        sorted(Region.objects.filter(level__gte=4).values_list("pk", "name", "centre_lat")),
        sorted(Unit.objects.values_list("pk", "name", "short_name", "phone", "is_active")),
        sorted(Notice.objects.values_list("pk", "read_at")),
        sorted(Ranking.objects.values_list("pk", "version", "is_current")),
        sorted(
            (r, str(w), str(a))
            for r, w, a in ScoreScheme.objects.values_list(
                "region_id", "response_weight", "grade_a"
            )
        ),
        sorted(IndicatorSystem.objects.values_list("pk", "state")),
        sorted((str(v), e) for v, e in IndicatorScore.objects.values_list("value", "evidence")),
        sorted(RectificationItem.objects.values_list("pk", "state")),
    )


# --- The forms ---------------------------------------------------------------------------------

Setup = Callable[[World], Any]
FormOf = Callable[[Any, Any, Any], Any]  # (context, POST, FILES) -> the view's form


@dataclass
class Target:
    name: str  # "namespace:name" of the URL, or "cases:act/<action>"
    persona: str | None
    setup: Setup
    url: Callable[[Any], str]
    valid: Callable[[Any], dict[str, Any]]
    # The form the view parses the post with (the oracle of "valid"); None: the view reads
    # no field, or (the login) validity depends on more than the fields.
    form: FormOf | None = None
    # A post that changes who the client is (logging in or out) needs a new client each time.
    fresh_client: bool = False


def world_only(w: World) -> World:
    return w


def two_step_pending(w: World) -> TOTPDevice:
    """The dispatcher's authenticator being set up (the page's valid post is its code)."""
    return two_step.pending_device(w.persona("dispatcher"))


@dataclass
class KeyCtx:
    world: World
    key: ApiKey


def with_key(w: World) -> KeyCtx:
    issued = issue_api_key(unit=w.command_centre, name="待吊销", actor=w.persona("city_admin"))
    return KeyCtx(w, issued.key)


def with_notice(w: World) -> Notice:
    case = at("dispatched")(w)
    return Notice.objects.create(case=case, kind="dispatched", unit=case.unit, text="请签收")


def grid_point(w: World) -> tuple[str, str]:
    return str(w.grid_1.centre_lat), str(w.grid_1.centre_lng)


def _frozen(value: Any) -> Any:
    """A queryset as the rows it holds now (the oracle runs after the post changed them)."""
    if isinstance(value, QuerySet):
        return value.model.objects.filter(pk__in=list(value.values_list("pk", flat=True)))
    return value


def case_act(
    name: str, persona: str, setup: Setup, valid: Callable[[Case], dict[str, Any]]
) -> Target:
    spec = ACTIONS[name]

    def prepared(w: World) -> Any:
        case = setup(w)
        options = spec.options(w.persona(persona), case) if spec.options else {}
        case._fuzz_options = {k: _frozen(v) for k, v in options.items()}
        return case

    def form(case: Case, post: Any, files: Any) -> Any:
        return spec.form(post, files, **case._fuzz_options)  # type: ignore[attr-defined]

    return Target(
        f"cases:act/{name}",
        persona,
        prepared,
        lambda c: f"/cases/{c.pk}/act/{name}/",
        valid,
        form,
    )


def versioned(c: Case, **fields: Any) -> dict[str, Any]:
    return {"expected_version": str(c.version), **fields}


CASE_ACTIONS = [
    case_act(
        "register",
        "dispatcher",
        at("submitted"),
        lambda c: versioned(c, urgency="normal", complexity="ordinary"),
    ),
    case_act(
        "reject", "dispatcher", at("submitted"), lambda c: versioned(c, reason="不属于受理范围")
    ),
    case_act(
        "escalate", "dispatcher", at("submitted"), lambda c: versioned(c, reason="需区级协调")
    ),
    case_act(
        "merge",
        "dispatcher",
        duplicate,
        lambda c: {"into": vars(c)["_original_number"], "reason": "重复件"},
    ),
    case_act(
        "dispatch",
        "dispatcher",
        at("registered"),
        lambda c: versioned(c, unit=str(c.proposed_unit_id), reason=""),
    ),
    case_act("sign_for", "street_officer", at("dispatched"), versioned),
    case_act(
        "return", "street_officer", at("dispatched"), lambda c: versioned(c, reason="不属本单位")
    ),
    case_act(
        "add_assisting_unit",
        "dispatcher",
        at("in_progress"),
        lambda c: {
            "unit": str(Unit.objects.get(name="明湖区城市管理和综合执法局").pk),
            "reason": "协办",
        },
    ),
    case_act(
        "reply", "street_officer", at("in_progress"), lambda c: versioned(c, reply="已清运完毕。")
    ),
    case_act(
        "request_extension",
        "street_officer",
        at("in_progress"),
        lambda c: versioned(c, days="3", reason="需协调物业"),
    ),
    case_act(
        "request_suspension",
        "street_officer",
        at("in_progress"),
        lambda c: versioned(c, reason="需列入预算"),
    ),
    case_act(
        "decide",
        "dispatcher",
        with_extension_request,
        lambda c: {
            "request": str(CaseRequest.objects.get(case=c).pk),
            "approve": "1",
            "note": "同意",
        },
    ),
    case_act("resume", "street_officer", suspended, versioned),
    case_act("supervise", "district_leader", at("in_progress"), lambda c: {"note": "请尽快办理"}),
    case_act(
        "attach",
        "resident",
        at("in_progress"),
        lambda c: {"photo": Upload("p.png", PNG, "image/png")},
    ),
    case_act("verify", "grid_worker", at("replied"), lambda c: versioned(c, note="已核实")),
    case_act(
        "fail_verification", "grid_worker", at("replied"), lambda c: versioned(c, note="垃圾还在")
    ),
    case_act("close", "dispatcher", at("verified"), versioned),
    case_act(
        "follow_up",
        "resident",
        at("closed"),
        lambda c: versioned(c, resolution="resolved", satisfaction="satisfied", comment="满意"),
    ),
    case_act("reopen", "dispatcher", at("closed"), lambda c: versioned(c, reason="回访未解决")),
]


def _score_form(ctx: SystemCtx, post: Any, files: Any) -> Any:
    return system_views.ScoreForm(post, files)


def _system_form(ctx: SystemCtx, post: Any, files: Any) -> Any:
    regions = system_views.regions_to_define(ctx.world.persona("city_admin"))
    return SystemForm(post, regions=regions)


def _indicator_form(ctx: SystemCtx, post: Any, files: Any) -> Any:
    groups = [i for i in indicators_of(ctx.system) if i.is_group]
    return IndicatorForm(post, groups=groups, figures=FIGURES)


TARGETS = [
    Target(
        "accounts:login",
        None,
        world_only,
        lambda w: "/accounts/login/",
        lambda w: {"username": "dispatcher", "password": DEMO_PASSWORD},
        fresh_client=True,
    ),
    Target(
        "accounts:two-step",
        "dispatcher",
        two_step_pending,
        lambda c: "/accounts/me/two-step/",
        lambda c: {"code": code_for(c)},
        lambda c, post, files: CodeForm(post),
    ),
    Target(
        # Without a password step in the same browser the code page sends people back to
        # the login page whatever they post (tests/…/test_two_step.py covers the code step).
        "accounts:two-step-login",
        None,
        world_only,
        lambda w: "/accounts/login/code/",
        lambda w: {"code": "123456"},
        fresh_client=True,
    ),
    Target(
        "accounts:password",
        "dispatcher",
        # The person as before the post (the oracle checks the old password against this).
        lambda w: User.objects.get(username="dispatcher"),
        lambda p: "/accounts/me/password/",
        lambda p: {
            "old_password": DEMO_PASSWORD,
            "new_password1": "Qz7-lantern-river",
            "new_password2": "Qz7-lantern-river",
        },
        lambda person, post, files: PasswordChangeForm(person, post),
        fresh_client=True,
    ),
    Target(
        "accounts:logout",
        "dispatcher",
        world_only,
        lambda w: "/accounts/logout/",
        lambda w: {},
        fresh_client=True,
    ),
    Target(
        ":set_language",
        "resident",
        world_only,
        lambda w: "/i18n/setlang/",
        lambda w: {"language": "en", "next": "/cases/mine/"},
    ),
    Target(
        "accounts:api-keys",
        "city_admin",
        world_only,
        lambda w: "/accounts/api-keys/",
        lambda w: {"unit_id": str(w.command_centre.pk), "name": "区热线系统"},
        lambda w, post, files: ApiKeyForm(post, unit_choices=[]),
    ),
    Target(
        # Reads no field: one's own personal token, revoked.
        "accounts:revoke-own-token",
        "dispatcher",
        lambda w: issue_personal_token(None, username="dispatcher", password=DEMO_PASSWORD),
        lambda issued: f"/accounts/me/tokens/{issued.key.pk}/revoke/",
        lambda issued: {},
    ),
    Target(
        "accounts:revoke-api-key",
        "city_admin",
        with_key,
        lambda c: f"/accounts/api-keys/{c.key.pk}/revoke/",
        lambda c: {"reason": "密钥泄露"},
        lambda c, post, files: ReasonForm(post),
    ),
    Target(
        "territory:region-edit",
        "city_admin",
        world_only,
        lambda w: f"/regions/{w.grid_1.pk}/edit/",
        lambda w: {
            "name": "华东湾一网格",
            "centre_lat": str(w.grid_1.centre_lat),
            "centre_lng": str(w.grid_1.centre_lng),
            "boundary": json.dumps(w.grid_1.boundary),
            "reason": "更名",
        },
        lambda w, post, files: RegionForm(post),
    ),
    Target(
        "territory:unit-edit",
        "city_admin",
        world_only,
        lambda w: f"/units/{w.committee_1.pk}/edit/",
        lambda w: {
            "name": "华东湾社区居民委员会",
            "short_name": "华东湾居委会",
            "phone": "0551-12345678",
            "is_active": "on",
            "reason": "更新电话",
        },
        lambda w, post, files: UnitForm(post),
    ),
    Target(
        "territory:grant-membership",
        "city_admin",
        world_only,
        lambda w: f"/units/{w.committee_1.pk}/members/",
        lambda w: {
            "username": "resident",
            "role": "grid_worker",
            "region_code": GRID_1,
            "title": "网格员",
        },
        lambda w, post, files: MembershipForm(post),
    ),
    Target(
        "territory:revoke-membership",
        "city_admin",
        world_only,
        lambda w: f"/memberships/{w.membership_of('grid_worker').pk}/revoke/",
        lambda w: {"reason": "调岗"},
        lambda w, post, files: ReasonForm(post),
    ),
    Target(
        "cases:new",
        "resident",
        world_only,
        lambda w: "/cases/new/",
        lambda w: {
            "title": "路灯不亮",
            "description": "小区北门路灯连续一周不亮。",
            "kind": "report",
            "latitude": grid_point(w)[0],
            "longitude": grid_point(w)[1],
            "address": "北门",
            "name": "林小雨",
            "phone": "13800138000",
            "is_anonymous": "on",
            "photos": Upload("p.png", PNG, "image/png"),
        },
        lambda w, post, files: SubmitForm(post, files, categories=pages.active_categories()),
    ),
    *CASE_ACTIONS,
    Target(
        "notifications:read",
        "street_officer",
        with_notice,
        lambda n: f"/notices/{n.pk}/read/",
        lambda n: {},
    ),
    Target(
        "evaluation:publish",
        "assessor",
        world_only,
        lambda w: "/evaluation/rankings/publish/",
        lambda w: {
            "region": str(w.city.pk),
            "month": "2026-03",
            "subject": "unit",
            "correction_reason": "",
        },
        lambda w, post, files: PublishForm(post, regions=regions_to_publish(w.persona("assessor"))),
    ),
    Target(
        "evaluation:scheme",
        "city_admin",
        world_only,
        lambda w: f"/evaluation/schemes/{w.district_1.pk}/",
        lambda w: dict(SCHEME_FORM),
        lambda w, post, files: SchemeForm(post),
    ),
    Target(
        "evaluation:generate_rectifications",
        "city_admin",
        closed,
        lambda c: f"/evaluation/systems/{c.system.pk}/rectifications/",
        lambda c: {"below_percent": "60", "bottom": "1", "deadline": deadline().isoformat()},
        lambda c, post, files: system_views.GenerateForm(post),
    ),
    Target(
        "evaluation:new_system",
        "city_admin",
        active,
        lambda c: "/evaluation/systems/new/",
        new_system_form,
        _system_form,
    ),
    Target(
        "evaluation:new_indicator",
        "city_admin",
        draft,
        lambda c: f"/evaluation/systems/{c.system.pk}/indicators/new/",
        lambda c: indicator_form(),
        _indicator_form,
    ),
    Target(
        "evaluation:edit_indicator",
        "city_admin",
        draft,
        lambda c: f"/evaluation/systems/{c.system.pk}/indicators/{c.ind('1.1')}/edit/",
        lambda c: indicator_form(
            source="computed",
            parent=str(c.ind("1")),
            code="1.1",
            name="响应率",
            weight="20",
            figure="response_rate",
            higher_is_better="1",
            rule_kind="linear",
            floor="0.40",
            target="0.95",
            per_event="",
        ),
        _indicator_form,
    ),
    Target(
        "evaluation:remove_indicator",
        "city_admin",
        draft,
        lambda c: f"/evaluation/systems/{c.system.pk}/indicators/{c.ind('3')}/remove/",
        lambda c: {},
    ),
    Target(
        "evaluation:system_action",
        "city_admin",
        draft,
        lambda c: f"/evaluation/systems/{c.system.pk}/activate/",
        lambda c: {},
    ),
    Target(
        "evaluation:enter_score",
        "assessor",
        active,
        lambda c: f"/evaluation/assessments/{c.west.pk}/indicators/{c.ind('2')}/",
        lambda c: {
            "value": "0.95",
            "evidence": "调查报告",
            "evidence_reference": "明政办〔2026〕1号",
            "file": Upload("e.pdf", PDF, "application/pdf"),
        },
        _score_form,
    ),
    Target(
        "evaluation:submit_rectification",
        "district_leader",
        listed,
        lambda c: f"/evaluation/rectifications/{c.item.pk}/submit/",
        lambda c: {"report": "已召开专题会议整改。", "evidence_reference": "明政办〔2026〕1号"},
        lambda c, post, files: system_views.SubmitForm(post, files),
    ),
    Target(
        "evaluation:decide_rectification",
        "assessor",
        submitted,
        lambda c: f"/evaluation/rectifications/{c.item.pk}/decide/",
        lambda c: {"decision": "accept", "note": "同意销号"},
        lambda c, post, files: system_views.DecideForm(post),
    ),
]

# Pages that refuse a POST with 405 (``require_GET`` or their own check).
GET_ONLY = {
    "accounts:profile",
    "cases:queues",
    "cases:mine",
    "cases:where",
    "cases:map",
    "cases:map-json",
    "cases:detail",
    "cases:submitted",
    "cases:duplicates",
    "cases:photo",
    "evaluation:figures",
    "evaluation:figures_xlsx",
    "evaluation:report_pdf",
    "evaluation:rankings",
    "evaluation:ranking",
    "evaluation:ranking_xlsx",
    "evaluation:system_xlsx",
    "dashboards:command_centre",
    "dashboards:public",
}


@dataclass
class Page:
    persona: str
    setup: Setup
    url: Callable[[Any], str]


def _scored_evidence(c: SystemCtx) -> str:
    score = IndicatorScore.objects.exclude(evidence_file=None).first()
    assert score is not None
    return f"/evaluation/evidence/{score.evidence_file_id}/"


# Pages without a method check: a POST gets the page as a GET would, and the body is never
# read (checked by test_pages_that_read_no_post_change_nothing).
POST_READS_NOTHING: dict[str, Page] = {
    ":home": Page("dispatcher", world_only, lambda w: "/"),
    "accounts:audit": Page("auditor", world_only, lambda w: "/accounts/audit/"),
    "territory:regions": Page("dispatcher", world_only, lambda w: "/regions/"),
    "territory:region": Page("dispatcher", world_only, lambda w: f"/regions/{w.grid_1.pk}/"),
    "territory:region-children": Page(
        "dispatcher", world_only, lambda w: f"/regions/{w.street_1.pk}/children/"
    ),
    "territory:units": Page("dispatcher", world_only, lambda w: "/units/?q=%25"),
    "territory:unit": Page("dispatcher", world_only, lambda w: f"/units/{w.committee_1.pk}/"),
    "notifications:list": Page("street_officer", world_only, lambda w: "/notices/"),
    "evaluation:systems": Page("city_admin", active, lambda c: "/evaluation/systems/"),
    "evaluation:system": Page(
        "city_admin", active, lambda c: f"/evaluation/systems/{c.system.pk}/"
    ),
    "evaluation:assessment": Page(
        "city_admin", active, lambda c: f"/evaluation/assessments/{c.west.pk}/"
    ),
    "evaluation:rectifications": Page("assessor", listed, lambda c: "/evaluation/rectifications/"),
    "evaluation:rectification": Page(
        "assessor", listed, lambda c: f"/evaluation/rectifications/{c.item.pk}/"
    ),
    "evaluation:evidence_file": Page("city_admin", closed, _scored_evidence),
}

# Not fuzzed here: Django's own admin (superusers only, Django's forms); the JSON API and
# Open311, fuzzed from their OpenAPI documents in test_api_fuzz.py.
ELSEWHERE = {"admin", "api-v1", "open311"}


def site_urls() -> set[str]:
    names: set[str] = set()
    for entry in get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace in ELSEWHERE:
                continue
            names |= {
                f"{entry.namespace}:{p.name}"
                for p in entry.url_patterns
                if isinstance(p, URLPattern) and p.name
            }
        elif isinstance(entry, URLPattern) and entry.name:
            names.add(f":{entry.name}")
    return names


def test_every_url_is_declared() -> None:
    forms = {t.name.split("/")[0] for t in TARGETS}
    declared = [forms, GET_ONLY, set(POST_READS_NOTHING)]
    assert set().union(*declared) == site_urls()
    assert sum(map(len, declared)) == len(site_urls()), "a URL is declared twice"


def test_every_case_action_is_fuzzed() -> None:
    assert {t.name for t in CASE_ACTIONS} == {f"cases:act/{name}" for name in ACTIONS}


def _sample_kwargs(pattern: URLPattern) -> dict[str, str]:
    samples = {"int": "1", "str": "x", "slug": "x", "uuid": "00000000-0000-4000-8000-000000000000"}
    kwargs = {}
    for name, converter in pattern.pattern.converters.items():
        kind = type(converter).__name__.removesuffix("Converter").lower()
        kind = {"uuid": "uuid", "int": "int", "slug": "slug"}.get(kind, "str")
        kwargs[name] = samples[kind]
    return kwargs


def test_get_only_pages_refuse_a_post(world: World) -> None:
    client = client_for("city_admin")
    patterns: dict[str, URLPattern] = {}
    for entry in get_resolver().url_patterns:
        if isinstance(entry, URLResolver) and entry.namespace not in ELSEWHERE:
            for p in entry.url_patterns:
                if isinstance(p, URLPattern):
                    patterns[f"{entry.namespace}:{p.name}"] = p
    for name in sorted(GET_ONLY):
        url = reverse(name, kwargs=_sample_kwargs(patterns[name]))
        response = client.post(url, {"title": "<script>window.__xss=1</script>"})
        assert response.status_code == 405, name


# --- Posting -------------------------------------------------------------------------------------


def _materialise(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v.make() if isinstance(v, Upload) else v for k, v in data.items()}


def _has_files(data: dict[str, Any]) -> bool:
    return any(isinstance(v, Upload) for v in data.values())


def _raw_body(data: dict[str, Any], broken: str) -> bytes:
    """A url-encoded body with broken UTF-8 in it: a raw byte, a bad escape, a lone
    surrogate's bytes, or a truncated sequence."""
    pairs = [
        f"{quote(k)}={quote(v)}".encode() for k, v in data.items() if not isinstance(v, Upload)
    ]
    bad = {"raw": b"\xff\xfe", "escape": b"%FF%FE", "surrogate": b"%ED%A0%80", "cut": b"%E4%B8"}
    target = next(iter(data), "title")
    return b"&".join([*pairs, quote(target).encode() + b"=" + bad[broken]])


def post(client: Client, url: str, data: dict[str, Any], how: str) -> Any:
    if how == "form":
        return client.post(url, _materialise(data))
    return client.post(url, _raw_body(data, how), content_type="application/x-www-form-urlencoded")


READABLE = re.compile(r'class="(?:errorlist|form-error|card error-card)')


def error_levels(response: Any) -> list[int]:
    storage = getattr(response.wsgi_request, "_messages", None)
    return [m.level for m in getattr(storage, "_queued_messages", [])]


def check(
    response: Any, target: Target, context: Any, files: dict[str, Any], before: Any, after: Any
) -> None:
    status = response.status_code
    # The oracle parses what Django parsed (broken UTF-8 included), with the same files.
    post = response.wsgi_request.POST
    valid = None if target.form is None else target.form(context, post, files).is_valid()
    body = response.content.decode("utf-8", "replace")
    if status in (301, 302, 303, 204):
        failed = message_levels.ERROR in error_levels(response)
        if failed:
            assert after == before, "a redirect with an error, yet something changed"
        else:
            assert valid is not False, "invalid input was accepted"
    elif status == 200:
        if valid is False:
            assert READABLE.search(body), "invalid input, but no error on the page"
            assert after == before, "invalid input, yet something changed"
        elif READABLE.search(body):
            assert after == before, "the page shows an error, yet something changed"
    else:
        assert 400 <= status < 500, status
        assert READABLE.search(body), f"{status} without a message a person can read"
        assert after == before, f"{status}, yet something changed"


def fuzz_one(target: Target, world: World, examples: int = EXAMPLES) -> None:
    context = target.setup(world)
    valid = target.valid(context)
    url = target.url(context)
    hows = ["form"] * 6 + ["raw", "escape", "surrogate", "cut"]
    shared = client_for(target.persona)

    @bounded(examples)
    @given(data=form_data(valid), how=st.sampled_from(hows))
    def run(data: dict[str, Any], how: str) -> None:
        if how != "form" and _has_files(data):
            how = "form"
        note(f"{how}: {data!r}")
        with transaction.atomic():
            client = client_for(target.persona) if target.fresh_client else shared
            client.raise_request_exception = False
            before = snapshot()
            response = post(client, url, data, how)
            assert response.status_code < 500, (target.name, data, how)
            uploads = {k: v for k, v in data.items() if isinstance(v, Upload)}
            check(response, target, context, _materialise(uploads), before, snapshot())
            transaction.set_rollback(True)

    run()


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_form_survives_hostile_input(target: Target, world: World, settings: Any, tmp_path: Any):
    settings.MEDIA_ROOT = tmp_path
    fuzz_one(target, world)


def test_valid_input_still_succeeds(world: World, settings: Any, tmp_path: Any) -> None:
    """The oracle the fuzzing leans on: each form's valid data is accepted (a redirect, or
    the api-keys page with the new key), so hostile variants are measured against a form
    that works."""
    settings.MEDIA_ROOT = tmp_path
    for target in TARGETS:
        with transaction.atomic():
            context = target.setup(world)
            client = client_for(target.persona)
            response = client.post(target.url(context), _materialise(target.valid(context)))
            assert response.status_code in (200, 302), (target.name, response.status_code)
            assert message_levels.ERROR not in error_levels(response), target.name
            if response.status_code == 200:
                assert not READABLE.search(response.content.decode()), target.name
            transaction.set_rollback(True)


@pytest.mark.parametrize("name", sorted(POST_READS_NOTHING))
def test_pages_that_read_no_post_change_nothing(
    name: str, world: World, settings: Any, tmp_path: Any
):
    settings.MEDIA_ROOT = tmp_path
    page = POST_READS_NOTHING[name]
    context = page.setup(world)
    client = client_for(page.persona)
    before = snapshot()
    response = client.post(
        page.url(context), {"name": "<script>window.__xss=1</script>", "reason": "' OR 1=1 --"}
    )
    assert response.status_code == 200, name
    assert snapshot() == before
    if not response.streaming:
        assert b"window.__xss=1</script>" not in response.content
    response.close()
