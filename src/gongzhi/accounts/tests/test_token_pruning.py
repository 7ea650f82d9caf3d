"""Spent personal tokens (one per API login) are deleted 30 days after they expired or were
revoked; live ones, recently spent ones and integration keys stay."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from gongzhi.accounts.models import ApiKey
from gongzhi.accounts.services import issue_api_key, issue_personal_token, system_actor
from gongzhi.accounts.signins import prune_personal_tokens
from gongzhi.demo.build import DEMO_PASSWORD
from gongzhi.demo.testing import World


def token(age: dt.timedelta, *, revoked: bool = False) -> ApiKey:
    key = issue_personal_token(None, username="resident", password=DEMO_PASSWORD).key
    when = timezone.now() - age
    ApiKey.objects.filter(pk=key.pk).update(
        expires_at=timezone.now() + dt.timedelta(hours=1) if revoked else when,
        revoked_at=when if revoked else None,
    )
    return key


def test_tokens_spent_over_30_days_ago_are_deleted(world: World) -> None:
    old_expired = token(dt.timedelta(days=31))
    old_revoked = token(dt.timedelta(days=45), revoked=True)
    recent_expired = token(dt.timedelta(days=29))
    recent_revoked = token(dt.timedelta(days=2), revoked=True)
    live = issue_personal_token(None, username="resident", password=DEMO_PASSWORD).key
    integration = issue_api_key(unit=world.command_centre, name="old", actor=system_actor()).key
    ApiKey.objects.filter(pk=integration.pk).update(
        revoked_at=timezone.now() - dt.timedelta(days=90)
    )
    assert prune_personal_tokens() == 2
    left = set(ApiKey.objects.values_list("pk", flat=True))
    assert {old_expired.pk, old_revoked.pk} & left == set()
    assert {recent_expired.pk, recent_revoked.pk, live.pk, integration.pk} <= left
    assert prune_personal_tokens() == 0
