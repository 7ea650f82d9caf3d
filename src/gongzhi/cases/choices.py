"""Enumerations of the request loop. States and actions live in ``workflow.py``."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_stubs_ext import StrOrPromise

from gongzhi.cases.workflow import Action, State


class CaseKind(models.TextChoices):
    CONSULTATION = "consultation", _("Consultation")
    HELP = "help", _("Request for help")
    COMPLAINT = "complaint", _("Complaint")
    REPORT = "report", _("Report")
    SUGGESTION = "suggestion", _("Suggestion")
    HAZARD = "hazard", _("Hazard")
    DISPUTE = "dispute", _("Dispute")
    RISK_CLUE = "risk_clue", _("Risk clue")


class Channel(models.TextChoices):
    HOTLINE = "hotline", _("12345 hotline")
    WEB = "web", _("Website")
    MOBILE = "mobile", _("Mobile app")
    OPEN311 = "open311", _("Open311 API")
    GRID_PATROL = "grid_patrol", _("Grid patrol")
    MASS_ORGANISATION = "mass_organisation", _("Mass organisation referral")
    LETTERS_VISITS = "letters_visits", _("Letters and visits")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("Normal")
    URGENT = "urgent", _("Urgent")
    DANGER = "danger", _("Danger to life or property")


class Stage(models.TextChoices):
    """The time-limited stages of a case; each has its own deadline."""

    DISPATCH = "dispatch", _("Register and dispatch")
    SIGN = "sign", _("Sign for")
    FEEDBACK = "feedback", _("Feedback to the person")


class Warning(models.TextChoices):
    NONE = "none", _("On time")
    YELLOW = "yellow", _("Yellow: 80% of the time used")
    RED = "red", _("Red: overdue")


class Resolution(models.TextChoices):
    RESOLVED = "resolved", _("Resolved")
    PARTLY = "partly", _("Partly resolved")
    NOT_RESOLVED = "not_resolved", _("Not resolved")


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")
    BASICALLY = "basically", _("Basically satisfied")
    UNSATISFIED = "unsatisfied", _("Unsatisfied")


class Complexity(models.TextChoices):
    ORDINARY = "ordinary", _("Ordinary")
    COMPLEX = "complex", _("Complex")


class RequestState(models.TextChoices):
    """Of an extension or suspension request."""

    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    DENIED = "denied", _("Denied")


# Names people read for the workflow's states and actions (workflow.py stays Django-free).
STATE_LABELS: dict[State, StrOrPromise] = {
    State.SUBMITTED: _("Submitted"),
    State.REGISTERED: _("Registered, waiting for dispatch"),
    State.REJECTED: _("Not accepted"),
    State.DISPATCHED: _("Dispatched, waiting for the unit to sign"),
    State.RETURNED: _("Returned by the unit"),
    State.IN_PROGRESS: _("In progress"),
    State.SUSPENDED: _("Suspended"),
    State.REPLIED: _("Replied, waiting for verification"),
    State.VERIFIED: _("Verified"),
    State.CLOSED: _("Closed"),
    State.MERGED: _("Merged into another case"),
}

ACTION_LABELS: dict[Action, StrOrPromise] = {
    Action.REGISTER: _("Register"),
    Action.REJECT: _("Reject"),
    Action.DISPATCH: _("Dispatch"),
    Action.SIGN_FOR: _("Sign for"),
    Action.RETURN: _("Return"),
    Action.REPLY: _("Reply"),
    Action.VERIFY: _("Verify: resolved"),
    Action.FAIL_VERIFICATION: _("Verify: not resolved"),
    Action.CLOSE: _("Close"),
    Action.FOLLOW_UP: _("Follow-up visit"),
    Action.REOPEN: _("Handle again"),
    Action.REQUEST_EXTENSION: _("Request an extension"),
    Action.DECIDE_EXTENSION: _("Decide on the extension"),
    Action.REQUEST_SUSPENSION: _("Request suspension"),
    Action.APPROVE_SUSPENSION: _("Approve suspension"),
    Action.DENY_SUSPENSION: _("Deny suspension"),
    Action.RESUME: _("Resume"),
    Action.ESCALATE: _("Escalate"),
    Action.SUPERVISE: _("Supervise"),
    Action.ADD_ASSISTING_UNIT: _("Add an assisting unit"),
    Action.MERGE: _("Merge into another case"),
    Action.WARN: _("Deadline warning"),
    Action.ABSORB_DUPLICATE: _("Duplicate merged in"),
    Action.ATTACH: _("Photo added"),
}
EVENT_LABELS: dict[str, StrOrPromise] = {
    # Context: the same English word names the state "submitted" (待受理).
    "submit": pgettext_lazy("timeline event", "Submitted"),
    **{a.value: label for a, label in ACTION_LABELS.items()},
}
