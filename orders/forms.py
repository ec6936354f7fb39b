"""Forms of the back office: each validates input for one service call."""

import re

from django import forms

from catalog.models import Item
from oms import untrusted
from oms.actors import ActorKind
from oms.forms import JSONField
from orders.choices import TimelineKind, person_reason_choices
from orders.models import OrderNote

# Queue orderings: key -> (label, order_by).
SORTS = {
    "updated": ("Last change", ("-updated_at", "-id")),
    "need_by": ("Need-by date", ("need_by", "id")),
    "priority": ("Priority", ("national_priority", "need_by", "id")),
    "number": ("Order number", ("-number",)),
}


class ReasonForm(forms.Form):
    """Why a person moves an order backwards or ends it: only the reasons a person gives
    (the system's own codes, such as a warehouse's rejection, are not offered)."""

    reason_code = forms.ChoiceField(
        label="Reason", choices=[("", "Choose…"), *person_reason_choices()]
    )
    reason_text = forms.CharField(
        label="Why", max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class NoteForm(forms.Form):
    text = forms.CharField(
        label="Note",
        max_length=OrderNote.MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "aria-describedby": "id_text_help"}),
        help_text="Seen by everyone who opens the order; it cannot be changed afterwards.",
    )


class BulkForm(forms.Form):
    ACTIONS = [
        ("approve", "Approve"),
        ("release", "Release to warehouse"),
        ("reject", "Reject to draft"),
        ("cancel", "Cancel"),
    ]
    action = forms.ChoiceField(choices=ACTIONS)
    orders = forms.CharField(widget=forms.MultipleHiddenInput)
    reason_code = forms.ChoiceField(
        label="Reason", choices=[("", "—"), *person_reason_choices()], required=False
    )
    reason_text = forms.CharField(label="Why", max_length=2000, required=False)

    # What an order number can look like; anything else is reported, never looked up.
    NUMBER = re.compile(r"[A-Za-z0-9._-]{1,20}")

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        sent = data.getlist("orders") if data is not None else []
        self.numbers = [n for n in sent if self.NUMBER.fullmatch(n)]
        # Values that cannot be order numbers, shown as they can be printed.
        self.refused = [untrusted.printable(n[:40]) for n in sent if not self.NUMBER.fullmatch(n)]

    def clean(self):
        data = super().clean()
        if not self.numbers and not self.refused:
            raise forms.ValidationError("Select at least one order.")
        if len(self.numbers) + len(self.refused) > 200:
            raise forms.ValidationError("Select at most 200 orders at once.")
        if data.get("action") in {"reject", "cancel"} and not (
            data.get("reason_code") and (data.get("reason_text") or "").strip()
        ):
            raise forms.ValidationError("Rejecting and cancelling need a reason and a text.")
        return data


# The most of one item a line can order (the API's line edits have the same bound).
MAX_QUANTITY = 1_000_000


class LinesForm(forms.Form):
    """A draft's lines: new quantities, lines to remove, one item to add."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    add_item = forms.CharField(label="Add item (code)", max_length=40, required=False)
    add_quantity = forms.IntegerField(
        label="Quantity", min_value=1, max_value=MAX_QUANTITY, required=False
    )

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = lines
        for line in lines:
            self.fields[f"qty_{line.pk}"] = forms.IntegerField(
                label=f"Quantity of {line.item.code}",
                min_value=1,
                max_value=MAX_QUANTITY,
                initial=line.quantity,
            )
            self.fields[f"remove_{line.pk}"] = forms.BooleanField(
                label=f"Remove {line.item.code}", required=False
            )

    def rows(self):
        return [(line, self[f"qty_{line.pk}"], self[f"remove_{line.pk}"]) for line in self.lines]

    def clean(self):
        data = super().clean()
        code = (data.get("add_item") or "").strip()
        self.add_item = None
        if code:
            self.add_item = Item.objects.select_related("replaced_by").filter(code=code).first()
            if self.add_item is None:
                self.add_error("add_item", f"There is no item {code}.")
            elif not data.get("add_quantity"):
                self.add_error("add_quantity", "Give the quantity to add.")
        return data

    def edits(self):
        from orders.services import LineEdits

        data = self.cleaned_data
        return LineEdits(
            quantities={
                line.pk: data[f"qty_{line.pk}"]
                for line in self.lines
                if data[f"qty_{line.pk}"] != line.quantity
            },
            add=[(self.add_item, data["add_quantity"])] if self.add_item else [],
            remove=[line.pk for line in self.lines if data.get(f"remove_{line.pk}")],
        )


class PayloadForm(forms.Form):
    """A dead-lettered design event as corrected: shown as the event's JSON object,
    pretty-printed, to be edited as it is."""

    payload = JSONField(
        label="Corrected event (JSON)",
        indent=2,
        widget=forms.Textarea(
            attrs={
                "rows": 24,
                "cols": 80,
                "spellcheck": "false",
                "class": "json",
            }
        ),
    )


class ReturnResolutionForm(forms.Form):
    """How a coordinator resolves one return, and why."""

    RESOLUTIONS = [
        ("close", "Close as final"),
        ("reopen", "Reopen the order to draft"),
        ("replace", "Create a replacement order"),
    ]
    resolution = forms.ChoiceField(choices=RESOLUTIONS)
    reason = forms.CharField(label="Why", max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class ReplacementForm(forms.Form):
    """How many of each line of one return a replacement order carries (a field
    `replace_<return line id>` per line)."""

    def __init__(self, lines, data=None):
        super().__init__(data)
        for line in lines:
            self.fields[f"replace_{line.pk}"] = forms.IntegerField(
                label=f"Replace {line.order_line.item.code}",
                min_value=0,
                max_value=line.quantity,
                required=False,
            )

    def quantities(self) -> dict[int, int]:
        return {
            int(name.removeprefix("replace_")): value or 0
            for name, value in self.cleaned_data.items()
        }


class TimelineFilterForm(forms.Form):
    """Which entries of an order's timeline to show."""

    actor = forms.ChoiceField(
        label="Who", choices=[("", "Anyone"), *ActorKind.choices], required=False
    )
    change = forms.ChoiceField(
        label="What", choices=[("", "Every kind of change"), *TimelineKind.choices], required=False
    )


class ProjectUploadForm(forms.Form):
    """A planning file to import; the import service checks its name, type and size."""

    file = forms.FileField(
        label="Planning file (.parquet or .csv)",
        max_length=10_000,  # the service refuses long names in its own words
        error_messages={
            "required": "Choose a file to upload.",
            "empty": "The file is empty.",
            "invalid": "No file was received; choose the file again.",
        },
        widget=forms.ClearableFileInput(attrs={"accept": ".parquet,.csv"}),
    )
    dry_run = forms.BooleanField(
        label="Check only, change nothing",
        required=False,
        help_text="Reads every row and lists the problems; no project is created or changed.",
    )
