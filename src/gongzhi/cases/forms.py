"""Forms of the request loop's pages: they parse input; the services decide what is valid.

Each action form that maps to a service taking ``expected_version`` inherits
``VersionedForm``; the page writes the version it shows into a hidden field, so acting on a
stale page gives the service's ``stale_version`` message instead of a silent overwrite.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from gongzhi.cases.choices import CaseKind, Complexity, Resolution, Satisfaction, Urgency, Warning
from gongzhi.cases.models import CaseRequest, Category
from gongzhi.cases.services import ALLOWED_UPLOADS, MAX_ATTACHMENTS, MAX_UPLOAD_BYTES
from gongzhi.territory.models import Unit

REASON_WIDGET = forms.Textarea(attrs={"rows": 2, "maxlength": 2000})


class CategoryChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return str(obj)


class UnitChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class VersionedForm(forms.Form):
    """The version of the case the person saw (optional: the API and old pages may omit it)."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)


class EmptyForm(VersionedForm):
    """Sign for, close, resume: the button is the whole form."""


class RegisterForm(VersionedForm):
    category = CategoryChoiceField(
        label=_("Category"), queryset=Category.objects.none(), required=False
    )
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices)
    complexity = forms.ChoiceField(label=_("Complexity"), choices=Complexity.choices)

    def __init__(self, *args: Any, categories: QuerySet[Category], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["category"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101
        field.queryset = categories
        field.empty_label = "—"


class ReasonForm(VersionedForm):
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=REASON_WIDGET)


class DispatchForm(VersionedForm):
    unit = UnitChoiceField(label=_("Unit"), queryset=Unit.objects.none())
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        required=False,
        widget=REASON_WIDGET,
        help_text=_("Needed when you choose another unit than the proposed one."),
    )

    def __init__(self, *args: Any, units: QuerySet[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["unit"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101
        field.queryset = units
        field.empty_label = None


class ReplyForm(VersionedForm):
    reply = forms.CharField(
        label=_("Answer to the person"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": 5000}),
    )


class NoteForm(VersionedForm):
    note = forms.CharField(label=_("Note"), max_length=2000, required=False, widget=REASON_WIDGET)


class RequiredNoteForm(VersionedForm):
    note = forms.CharField(label=_("What is still wrong"), max_length=2000, widget=REASON_WIDGET)


class FollowUpForm(VersionedForm):
    resolution = forms.ChoiceField(
        label=_("Was it resolved?"), choices=Resolution.choices, widget=forms.RadioSelect
    )
    satisfaction = forms.ChoiceField(
        label=_("How satisfied are you?"), choices=Satisfaction.choices, widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label=_("Comment"), max_length=2000, required=False, widget=REASON_WIDGET
    )


class ExtensionForm(VersionedForm):
    days = forms.IntegerField(label=_("Working days"), min_value=1, max_value=30)
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=REASON_WIDGET)


class SuperviseForm(forms.Form):
    note = forms.CharField(
        label=_("What you expect of the unit"), max_length=2000, widget=REASON_WIDGET
    )


class AssistForm(forms.Form):
    unit = UnitChoiceField(label=_("Unit"), queryset=Unit.objects.none())
    reason = forms.CharField(label=_("Reason"), max_length=2000, required=False)

    def __init__(self, *args: Any, units: QuerySet[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["unit"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101
        field.queryset = units


class MergeForm(forms.Form):
    into = forms.CharField(
        label=_("Number of the case to merge into"),
        max_length=20,
        widget=forms.TextInput(attrs={"placeholder": "20261127-00001"}),
    )
    reason = forms.CharField(label=_("Reason"), max_length=2000, required=False)


class DecideForm(forms.Form):
    request = forms.ModelChoiceField(queryset=CaseRequest.objects.none(), widget=forms.HiddenInput)
    approve = forms.TypedChoiceField(
        choices=[("1", _("Approve")), ("0", _("Deny"))], coerce=lambda v: v == "1"
    )
    note = forms.CharField(label=_("Note"), max_length=2000, required=False)

    def __init__(self, *args: Any, pending: QuerySet[CaseRequest], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["request"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101
        field.queryset = pending


# --- Photos -----------------------------------------------------------------------------------


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


def check_photo(photo: UploadedFile[Any]) -> UploadedFile[Any]:
    """Early, friendly checks; ``services.attach_file`` checks the bytes again."""
    if not photo.size or photo.size > MAX_UPLOAD_BYTES:
        raise forms.ValidationError(_("A photo must be between 1 byte and 8 MB."))
    head = photo.read(16)
    photo.seek(0)
    if not any(head.startswith(magic) for magic in ALLOWED_UPLOADS):
        raise forms.ValidationError(_("Only JPEG, PNG and WebP photos can be attached."))
    return photo


class PhotosField(forms.FileField):
    widget = MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"})

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile[Any]]:
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        if len(files) > MAX_ATTACHMENTS:
            raise forms.ValidationError(_("A case can have at most 9 photos."))
        return [check_photo(super(PhotosField, self).clean(f, initial)) for f in files]


class AttachForm(forms.Form):
    photo = forms.FileField(
        label=_("Photo"),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )

    def clean_photo(self) -> UploadedFile[Any]:
        photo: UploadedFile[Any] = self.cleaned_data["photo"]
        return check_photo(photo)


# --- Raising a matter -------------------------------------------------------------------------

RESIDENT_KINDS = [
    CaseKind.HELP,
    CaseKind.COMPLAINT,
    CaseKind.REPORT,
    CaseKind.CONSULTATION,
    CaseKind.SUGGESTION,
    CaseKind.HAZARD,
    CaseKind.DISPUTE,
]


class SubmitForm(forms.Form):
    title = forms.CharField(
        label=_("In one line: what is the matter?"),
        max_length=200,
        widget=forms.TextInput(attrs={"maxlength": 200}),
    )
    description = forms.CharField(
        label=_("Describe it"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": 5000}),
    )
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[(k.value, k.label) for k in RESIDENT_KINDS],
        initial=CaseKind.HELP,
    )
    category = CategoryChoiceField(
        label=_("Category (if you know it)"), queryset=Category.objects.none(), required=False
    )
    latitude = forms.FloatField(
        widget=forms.HiddenInput,
        min_value=-90,
        max_value=90,
        error_messages={"required": _("Put a pin on the map where the matter is.")},
    )
    longitude = forms.FloatField(
        widget=forms.HiddenInput,
        min_value=-180,
        max_value=180,
        error_messages={"required": _("Put a pin on the map where the matter is.")},
    )
    address = forms.CharField(
        label=_("Address or landmark"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"maxlength": 200}),
    )
    name = forms.CharField(label=_("Your name"), max_length=60, required=False)
    phone = forms.CharField(label=_("Your phone"), max_length=30, required=False)
    is_anonymous = forms.BooleanField(
        label=_("Anonymous: only the intake staff may see my name and phone"), required=False
    )
    photos = PhotosField(label=_("Photos (up to 9: JPEG, PNG or WebP, 8 MB each)"), required=False)

    def __init__(self, *args: Any, categories: QuerySet[Category], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["category"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101
        field.queryset = categories
        field.empty_label = _("I don't know")


# --- The map's filters ------------------------------------------------------------------------


class MapFilterForm(forms.Form):
    group = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("", _("All")), ("open", _("Open")), ("closed", _("Closed"))],
    )
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=Category.objects.none(), required=False
    )
    warning = forms.ChoiceField(
        label=_("Warning"), required=False, choices=[("", _("Any")), *Warning.choices]
    )

    def __init__(self, *args: Any, categories: QuerySet[Category], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["category"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101
        field.queryset = categories
        field.empty_label = _("All categories")


class TrackForm(forms.Form):
    code = forms.CharField(label=_("Tracking code"), max_length=16)
