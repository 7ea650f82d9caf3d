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
    """Things a role lets a member do. Region capabilities apply within the membership's
    region subtree; unit capabilities (``UNIT_CAPABILITIES``) apply to the unit's own cases."""

    VIEW_TERRITORY = "view_territory", _("View regions and units")
    MANAGE_TERRITORY = "manage_territory", _("Edit regions and units")
    MANAGE_MEMBERS = "manage_members", _("Grant and revoke memberships")
    MANAGE_API_KEYS = "manage_api_keys", _("Issue and revoke API keys")
    VIEW_AUDIT = "view_audit", _("Read the audit log")
    VIEW_CASES = "view_cases", _("See the cases of the region")
    REPORT_CASES = "report_cases", _("Report cases found on patrol")
    DISPATCH_CASES = "dispatch_cases", _("Register, dispatch and close cases")
    HANDLE_CASES = "handle_cases", _("Handle the cases of one's unit")
    VERIFY_CASES = "verify_cases", _("Verify that cases were resolved")
    SUPERVISE_CASES = "supervise_cases", _("Supervise cases")
    APPROVE_REQUESTS = "approve_requests", _("Approve extensions and suspensions")
    VIEW_EVALUATION = "view_evaluation", _("See the figures, rankings and the command centre")
    PUBLISH_RANKINGS = "publish_rankings", _("Publish monthly rankings")
    MANAGE_EVALUATION = (
        "manage_evaluation",
        _("Set score schemes and indicator systems; generate rectification lists"),
    )
    ASSESS = "assess", _("Enter assessed indicator scores with evidence")
    RECTIFY = "rectify", _("Carry out the rectifications of one's unit")
    VIEW_PERSONAL_DATA = (
        "view_personal_data",
        _("See the personal data of the people who raise cases"),
    )


UNIT_CAPABILITIES = frozenset({Capability.HANDLE_CASES, Capability.RECTIFY})

_ALL_STAFF = {Capability.VIEW_TERRITORY}

ROLE_CAPABILITIES: dict[str, frozenset[str]] = {
    MembershipRole.GRID_WORKER: frozenset(
        _ALL_STAFF
        | {
            Capability.VIEW_CASES,
            Capability.REPORT_CASES,
            Capability.VERIFY_CASES,
            Capability.VIEW_PERSONAL_DATA,
        }
    ),
    MembershipRole.DISPATCHER: frozenset(
        _ALL_STAFF
        | {
            Capability.VIEW_CASES,
            Capability.REPORT_CASES,
            Capability.DISPATCH_CASES,
            Capability.APPROVE_REQUESTS,
            Capability.VIEW_PERSONAL_DATA,
            Capability.VIEW_EVALUATION,
        }
    ),
    MembershipRole.HANDLER: frozenset(
        _ALL_STAFF | {Capability.HANDLE_CASES, Capability.RECTIFY, Capability.VIEW_PERSONAL_DATA}
    ),
    MembershipRole.LEADER: frozenset(
        _ALL_STAFF
        | {
            Capability.VIEW_CASES,
            Capability.SUPERVISE_CASES,
            Capability.APPROVE_REQUESTS,
            Capability.VIEW_EVALUATION,
            Capability.PUBLISH_RANKINGS,
            Capability.RECTIFY,
        }
    ),
    MembershipRole.MEDIATOR: frozenset(
        _ALL_STAFF | {Capability.HANDLE_CASES, Capability.VIEW_PERSONAL_DATA}
    ),
    MembershipRole.ASSESSOR: frozenset(
        _ALL_STAFF
        | {
            Capability.VIEW_CASES,
            Capability.VIEW_EVALUATION,
            Capability.ASSESS,
            Capability.PUBLISH_RANKINGS,
        }
    ),
    MembershipRole.ADMINISTRATOR: frozenset(
        _ALL_STAFF
        | {
            Capability.MANAGE_TERRITORY,
            Capability.MANAGE_MEMBERS,
            Capability.MANAGE_API_KEYS,
            Capability.VIEW_AUDIT,
            Capability.VIEW_CASES,
            Capability.VIEW_EVALUATION,
            Capability.MANAGE_EVALUATION,
        }
    ),
    MembershipRole.AUDITOR: frozenset(
        _ALL_STAFF | {Capability.VIEW_AUDIT, Capability.VIEW_CASES, Capability.VIEW_EVALUATION}
    ),
}


class AccountsAuditAction(models.TextChoices):
    MEMBERSHIP_GRANTED = "membership.granted", _("Role granted")
    MEMBERSHIP_REVOKED = "membership.revoked", _("Role revoked")
    API_KEY_ISSUED = "api_key.issued", _("API key issued")
    API_KEY_REVOKED = "api_key.revoked", _("API key revoked")
    PERSON_CREATED = "person.created", _("Person with admin rights created")
    PERSON_CHANGED = "person.changed", _("Person's login or rights changed")
    PERSON_PERMISSIONS_CHANGED = (
        "person.permissions_changed",
        _("Person's groups or permissions changed"),
    )
    PERSON_DELETED = "person.deleted", _("Person deleted")
    # Signing in and out (accounts.signins), on the web pages and the admin.
    SIGNED_IN = "session.signed_in", _("Signed in")
    SIGN_IN_FAILED = "session.sign_in_failed", _("Sign-in failed")
    SIGN_IN_THROTTLED = "session.sign_in_throttled", _("Sign-in refused: too many failures")
    SIGNED_OUT = "session.signed_out", _("Signed out")
    # Signing in to the API issues a personal token; logging out of the API revokes it.
    PERSONAL_TOKEN_ISSUED = (
        "personal_token.issued",
        _("Signed in to the API: personal token issued"),
    )
    PERSONAL_TOKEN_REVOKED = (
        "personal_token.revoked",
        _("Signed out of the API: personal token revoked"),
    )
    # Two-step verification (accounts.two_step).
    TWO_STEP_ENABLED = "two_step.enabled", _("Two-step verification turned on")
    TWO_STEP_DISABLED = "two_step.disabled", _("Two-step verification turned off")
    TWO_STEP_RESET = "two_step.reset", _("Two-step verification reset by an administrator")
    TWO_STEP_BACKUP_CODE_USED = "two_step.backup_code_used", _("Backup code used")
    TWO_STEP_BACKUP_CODES_REPLACED = (
        "two_step.backup_codes_replaced",
        _("New backup codes made"),
    )


class ApiKeyKind(models.TextChoices):
    INTEGRATION = "integration", _("Integration (another system)")
    PERSONAL = "personal", _("Personal token (API login)")
