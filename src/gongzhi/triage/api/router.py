"""API: the hot issues of a region (clusters of related cases, computed every ten minutes)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema

from gongzhi.accounts.choices import Capability
from gongzhi.accounts.queries import scope_of
from gongzhi.core.errors import NotFound
from gongzhi.core.redaction import redact
from gongzhi.territory.policies import access_region
from gongzhi.triage.queries import hot_issues_for

router = Router(tags=["triage"])


class HotIssueCaseOut(Schema):
    id: UUID
    number: str
    title: str  # redacted: no phone numbers, ID numbers or door numbers
    submitted_at: datetime
    state: str


class HotIssueOut(Schema):
    label: str
    keywords: list[str]
    heat: float
    case_count: int
    recent_count: int  # in the last 7 days
    earlier_count: int  # in the 21 days before
    first_at: datetime
    last_at: datetime
    computed_at: datetime
    cases: list[HotIssueCaseOut]


class HotIssueQuery(Schema):
    region_id: int


@router.get(
    "/hot-issues",
    response=list[HotIssueOut],
    summary="Hot issues of a region: clusters of related cases of the last 30 days",
)
def list_hot_issues(request: HttpRequest, query: Query[HotIssueQuery]) -> list[HotIssueOut]:
    region = access_region(request.user, query.region_id)
    if not scope_of(request.user, Capability.VIEW_CASES).covers(region.path):
        raise NotFound(_("No such region."))
    return [
        HotIssueOut(
            label=issue.label,
            keywords=list(issue.keywords),
            heat=issue.heat,
            case_count=issue.case_count,
            recent_count=issue.recent_count,
            earlier_count=issue.earlier_count,
            first_at=issue.first_at,
            last_at=issue.last_at,
            computed_at=issue.computed_at,
            cases=[
                HotIssueCaseOut(
                    id=UUID(c["id"]),
                    number=c["number"],
                    title=redact(c["title"]),
                    submitted_at=datetime.fromisoformat(c["submitted_at"]),
                    state=c["state"],
                )
                for c in issue.cases
            ],
        )
        for issue in hot_issues_for(region.path)
    ]
