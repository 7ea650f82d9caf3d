"""Roles and what each role may do, as data."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class MembershipRole(models.TextChoices):
    GRID_WORKER = "grid_worker", _("Grid worker")
    DISPATCHER = "dispatcher", _("Dispatcher")
    HANDLER = "handler", _("Handler")
    LEADER = "leader", _("Leader")
    MEDIATOR = "mediator", _("Mediator")
    ASSESSOR = "assessor", _("Assessor")
    ADMINISTRATOR = "administrator", _("Administrator")
    AUDITOR = "auditor", _("Auditor")


class Capability(models.TextChoices):
    """Things a role lets a member do within its region subtree."""

    VIEW_TERRITORY = "view_territory", _("View regions and units")
    MANAGE_TERRITORY = "manage_territory", _("Edit regions and units")
    MANAGE_MEMBERS = "manage_members", _("Grant and revoke memberships")
    MANAGE_API_KEYS = "manage_api_keys", _("Issue and revoke API keys")
    VIEW_AUDIT = "view_audit", _("Read the audit log")


_ALL_STAFF = {Capability.VIEW_TERRITORY}

ROLE_CAPABILITIES: dict[str, frozenset[str]] = {
    MembershipRole.GRID_WORKER: frozenset(_ALL_STAFF),
    MembershipRole.DISPATCHER: frozenset(_ALL_STAFF),
    MembershipRole.HANDLER: frozenset(_ALL_STAFF),
    MembershipRole.LEADER: frozenset(_ALL_STAFF),
    MembershipRole.MEDIATOR: frozenset(_ALL_STAFF),
    MembershipRole.ASSESSOR: frozenset(_ALL_STAFF),
    MembershipRole.ADMINISTRATOR: frozenset(
        _ALL_STAFF
        | {
            Capability.MANAGE_TERRITORY,
            Capability.MANAGE_MEMBERS,
            Capability.MANAGE_API_KEYS,
            Capability.VIEW_AUDIT,
        }
    ),
    MembershipRole.AUDITOR: frozenset(_ALL_STAFF | {Capability.VIEW_AUDIT}),
}


class AccountsAuditAction(models.TextChoices):
    MEMBERSHIP_GRANTED = "membership.granted", _("Role granted")
    MEMBERSHIP_REVOKED = "membership.revoked", _("Role revoked")
    API_KEY_ISSUED = "api_key.issued", _("API key issued")
    API_KEY_REVOKED = "api_key.revoked", _("API key revoked")


class ApiKeyKind(models.TextChoices):
    INTEGRATION = "integration", _("Integration (another system)")
    PERSONAL = "personal", _("Personal token (API login)")
