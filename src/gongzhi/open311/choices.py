"""The Open311 vocabulary as data: service attributes, what is public, status words.

Every service (a leaf category) has the same attributes (``ATTRIBUTES``), one of each
datatype the spec defines. Four of them fill the case's own fields (``title``, ``kind``,
``urgency``); the answers to the others are appended to the case's description, which is
where the staff who handle it read them. Per-category attributes would be rows a city edits;
see docs/open311.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from gongzhi.cases.choices import CaseKind, Channel, Urgency
from gongzhi.cases.workflow import Action, State


class Datatype(StrEnum):
    STRING = "string"
    NUMBER = "number"
    DATETIME = "datetime"
    TEXT = "text"
    SINGLEVALUELIST = "singlevaluelist"
    MULTIVALUELIST = "multivaluelist"


@dataclass(frozen=True)
class Attribute:
    code: str
    datatype: Datatype
    order: int
    description: StrOrPromise
    datatype_description: StrOrPromise = ""
    # How the answer is introduced in the case's description (for staff).
    label: StrOrPromise = ""
    required: bool = False
    variable: bool = True
    values: tuple[tuple[str, StrOrPromise], ...] = field(default_factory=tuple)
    max_length: int = 0

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(key for key, _name in self.values)


# Kinds of matter an Open311 client may raise; all of them are public once redacted.
SUBMITTABLE_KINDS = (
    CaseKind.REPORT,
    CaseKind.HAZARD,
    CaseKind.COMPLAINT,
    CaseKind.HELP,
    CaseKind.CONSULTATION,
    CaseKind.SUGGESTION,
)

ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute(
        "emergency_notice",
        Datatype.STRING,
        1,
        _(
            "This service is not for emergencies. For fire, crime, injury or danger to life "
            "call 119, 110 or 120."
        ),
        variable=False,
    ),
    Attribute(
        "title",
        Datatype.STRING,
        2,
        _("A short title for the matter. Without one, the service name is used."),
        _("Up to 200 characters."),
        max_length=200,
    ),
    Attribute(
        "kind",
        Datatype.SINGLEVALUELIST,
        3,
        _("What kind of matter is it?"),
        _("One key from the list. Without one: report."),
        values=tuple((str(k.value), k.label) for k in SUBMITTABLE_KINDS),
    ),
    Attribute(
        "urgency",
        Datatype.SINGLEVALUELIST,
        4,
        _("How urgent is it?"),
        _("One key from the list. Without one: normal."),
        values=tuple((str(u.value), u.label) for u in Urgency),
    ),
    Attribute(
        "noticed_at",
        Datatype.DATETIME,
        5,
        _("When did you notice it?"),
        _("A date and time in ISO 8601 with a time zone, e.g. 2026-11-27T09:30:00+08:00."),
        label=_("Noticed at"),
    ),
    Attribute(
        "people_affected",
        Datatype.NUMBER,
        6,
        _("About how many people are affected?"),
        _("A number, e.g. 20."),
        label=_("People affected"),
    ),
    Attribute(
        "affects",
        Datatype.MULTIVALUELIST,
        7,
        _("Who or what is affected?"),
        _("Any number of keys from the list."),
        label=_("Affects"),
        values=(
            ("pedestrians", _("Pedestrians")),
            ("traffic", _("Traffic")),
            ("children", _("Children")),
            ("elderly", _("Elderly people")),
            ("property", _("Property")),
            ("environment", _("The environment")),
        ),
    ),
    Attribute(
        "location_detail",
        Datatype.TEXT,
        8,
        _("How to find the place: landmarks, entrance, floor. No names or phone numbers."),
        _("Plain text, up to 1,000 characters."),
        label=_("How to find the place"),
        max_length=1000,
    ),
)
ATTRIBUTE_BY_CODE = {a.code: a for a in ATTRIBUTES}
# Attributes whose answers become the case's own fields rather than lines of its description.
CASE_FIELD_ATTRIBUTES = frozenset({"title", "kind", "urgency"})

# What the public reads (GET requests): matters about places and services. Disputes and risk
# clues concern people, and letters and visits (信访) are confidential by regulation.
PUBLIC_KINDS = frozenset(str(k.value) for k in CaseKind) - {CaseKind.DISPUTE, CaseKind.RISK_CLUE}
PRIVATE_CHANNELS = frozenset({Channel.LETTERS_VISITS.value})

# Timeline events shown in notes[] and the servicerequestupdates feed. Internal steps (returns,
# escalations, supervision, deadline warnings, requests for more time, the person's rating)
# are left out; their reasons are staff's working notes.
PUBLIC_EVENTS = frozenset(
    {
        "submit",
        Action.REGISTER,
        Action.REJECT,
        Action.DISPATCH,
        Action.SIGN_FOR,
        Action.REPLY,
        Action.VERIFY,
        Action.FAIL_VERIFICATION,
        Action.CLOSE,
        Action.REOPEN,
        Action.MERGE,
        Action.APPROVE_SUSPENSION,
        Action.RESUME,
        Action.ATTACH,
    }
)
# Events whose text the person was meant to read (the answer, the reason for not accepting).
EVENTS_WITH_PUBLIC_TEXT = frozenset({Action.REJECT})

# FixMyStreet's extended status words for the servicerequestupdates feed.
FMS_STATUS = {
    State.SUBMITTED: "OPEN",
    State.REGISTERED: "OPEN",
    State.RETURNED: "OPEN",
    State.DISPATCHED: "INVESTIGATING",
    State.IN_PROGRESS: "IN_PROGRESS",
    State.SUSPENDED: "ACTION_SCHEDULED",
    State.REPLIED: "IN_PROGRESS",
    State.VERIFIED: "FIXED",
    State.CLOSED: "CLOSED",
    State.REJECTED: "NO_FURTHER_ACTION",
    State.MERGED: "DUPLICATE",
}

SPECIFICATION_URL = "http://wiki.open311.org/GeoReport_v2"
# Bumped whenever what the endpoint offers changes (discovery's changeset).
CHANGESET = "2026-11-27T00:00:00Z"
MAX_DESCRIPTION = 4000
MAX_RESULTS = 1000
WINDOW_DAYS = 90
# Public coordinates are rounded to 3 decimals (about 100 m).
COORDINATE_DECIMALS = 3
DEFAULT_RADIUS_M = 750
MAX_RADIUS_M = 5000
MAX_MEDIA_FILES = 9
