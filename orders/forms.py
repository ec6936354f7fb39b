"""Forms of the back office: each validates input for one service call."""

import re

from django import forms
from django.db.models import Case, Q, Value, When

from catalog.models import Item, Kit
from oms import untrusted
from oms.actors import ActorKind
from oms.forms import JSONField
from orders.choices import Priority, TimelineKind, person_reason_choices
from orders.models import OrderNote, SavedView
from orders.selectors import coordinators, person_name
from orders.services import LineEdits

# Queue orderings: key -> (label, order_by). "Mine first" puts the orders assigned to
# the person looking first (see queue_ordering); it is a coordinator's default.
MINE_FIRST = "mine"
SORTS = {
    MINE_FIRST: ("Mine first", ("-updated_at", "-id")),
    "updated": ("Last change", ("-updated_at", "-id")),
    "need_by": ("Need-by date", ("need_by", "id")),
    "priority": ("Priority", ("national_priority", "need_by", "id")),
    "number": ("Order number", ("-number",)),
}


def default_sort(user) -> str:
    """Coordinators (who take orders on) see theirs first; everyone else the latest."""
    return MINE_FIRST if user.has_perm("orders.enrich_order") else "updated"


def mine_first(sort: str, user) -> Q | None:
    """The orders that come first for this sort and person: theirs, for Mine first."""
    if sort != MINE_FIRST or user is None or user.pk is None:
        return None
    return Q(assignee_id=user.pk)


def queue_ordering(sort: str, user) -> tuple:
    """The queue's order_by for a sort key, for this person (for an export, which reads
    every row anyway; the queue's pages read the two parts of Mine first apart)."""
    ordering = SORTS[sort][1]
    first = mine_first(sort, user)
    if first is None:
        return ordering
    return (Case(When(first, then=Value(0)), default=Value(1)), *ordering)


class SavedViewForm(forms.Form):
    """Save the queue's current filters (its query string) under a name."""

    name = forms.CharField(label="Name", max_length=SavedView.NAME_LENGTH)
    query = forms.CharField(
        max_length=SavedView.QUERY_LENGTH * 2, required=False, widget=forms.HiddenInput
    )
    is_default = forms.BooleanField(label="Open the queue with it", required=False)


class SavedViewChangeForm(forms.Form):
    """Rename a saved view, make it the default or not, or delete it."""

    ACTIONS = [("rename", "Rename"), ("default", "Make default"), ("undefault", "Not default")]
    ACTIONS += [("delete", "Delete")]
    action = forms.ChoiceField(choices=ACTIONS)
    name = forms.CharField(label="Name", max_length=SavedView.NAME_LENGTH, required=False)


class AssignForm(forms.Form):
    """Who looks after an order: a coordinator, or nobody (the unassign button)."""

    assignee = forms.ModelChoiceField(
        label="Assign to",
        queryset=None,
        to_field_name="username",
        required=False,
        empty_label="Choose a coordinator…",
        error_messages={"invalid_choice": "Choose one of the coordinators."},
    )
    unassign = forms.BooleanField(required=False, widget=forms.HiddenInput)
    version = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, auto_id="id_assign_%s", **kwargs)
        self.fields["assignee"].queryset = coordinators()
        self.fields["assignee"].label_from_instance = person_name

    def clean(self):
        data = super().clean()
        if data.get("unassign"):
            data["assignee"] = None
        elif "assignee" in data and data["assignee"] is None:
            self.add_error("assignee", "Choose the coordinator to assign the order to.")
        return data


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
# The most "add item" rows one save takes, and how many the editor shows at first.
MAX_ADD_ROWS = 50
ADD_ROWS = 3
# The most of one kit added at once.
MAX_KITS = 10_000


class LinesForm(forms.Form):
    """A draft's lines: new quantities, lines to remove, items to add (one row each,
    `add_item`/`add_quantity` then `add_item_2`/`add_quantity_2`, ...), and a kit to
    add a number of times."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    add_kit = forms.ModelChoiceField(
        label="Kit",
        queryset=Kit.objects.order_by("code"),
        to_field_name="code",
        required=False,
        empty_label="No kit",
        error_messages={"invalid_choice": "There is no such kit; choose one from the list."},
    )
    add_kit_count = forms.IntegerField(
        label="Number of kits", min_value=1, max_value=MAX_KITS, required=False
    )

    def __init__(self, *args, lines, rows: int = ADD_ROWS, **kwargs):
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
        self.add_row_count = min(max(rows, 1), MAX_ADD_ROWS)
        for n in range(1, self.add_row_count + 1):
            item_name, quantity_name = self.add_names(n)
            self.fields[item_name] = forms.CharField(
                label=f"Item to add, row {n}", max_length=40, required=False
            )
            self.fields[quantity_name] = forms.IntegerField(
                label=f"Quantity to add, row {n}",
                min_value=1,
                max_value=MAX_QUANTITY,
                required=False,
            )

    @staticmethod
    def add_names(n: int) -> tuple[str, str]:
        """The field names of the n-th "add item" row (the first keeps the plain names)."""
        suffix = "" if n == 1 else f"_{n}"
        return f"add_item{suffix}", f"add_quantity{suffix}"

    @classmethod
    def rows_sent(cls, data) -> int:
        """How many "add item" rows the page that sent `data` showed (its hidden
        `add_rows`); a value that is not a number counts as the default, and the count
        stays between 1 and MAX_ADD_ROWS."""
        try:
            rows = int(data.get("add_rows") or ADD_ROWS)
        except (TypeError, ValueError):
            return ADD_ROWS
        return min(max(rows, 1), MAX_ADD_ROWS)

    def rows(self):
        return [(line, self[f"qty_{line.pk}"], self[f"remove_{line.pk}"]) for line in self.lines]

    def add_rows_shown(self):
        shown = []
        for n in range(1, self.add_row_count + 1):
            item, quantity = self.add_names(n)
            shown.append((n, self[item], self[quantity]))
        return shown

    @property
    def can_add_row(self) -> bool:
        return self.add_row_count < MAX_ADD_ROWS

    def clean(self):
        data = super().clean()
        codes = {
            code
            for n in range(1, self.add_row_count + 1)
            if (code := (data.get(self.add_names(n)[0]) or "").strip())
        }
        found = Item.objects.select_related("replaced_by").in_bulk(codes, field_name="code")
        self.added: list[tuple[int, Item, int]] = []
        seen: dict[str, int] = {}
        for n in range(1, self.add_row_count + 1):
            item_name, quantity_name = self.add_names(n)
            code = (data.get(item_name) or "").strip()
            quantity = data.get(quantity_name)
            if not code:
                if quantity and item_name not in self.errors:
                    self.add_error(item_name, "Give the item code of this row.")
                continue
            item = found.get(code)
            if item is None:
                self.add_error(item_name, f"There is no item {untrusted.printable(code)}.")
            elif code in seen:
                self.add_error(
                    item_name, f"{code} is already in row {seen[code]}; add the quantities there."
                )
            elif not quantity:
                if quantity_name not in self.errors:
                    self.add_error(quantity_name, "Give the quantity to add.")
            else:
                self.added.append((n, item, quantity))
            seen.setdefault(code, n)
        kit, count = data.get("add_kit"), data.get("add_kit_count")
        if kit and not count and "add_kit_count" not in self.errors:
            self.add_error("add_kit_count", "Give the number of kits to add.")
        elif count and not kit and "add_kit" not in self.errors:
            self.add_error("add_kit", "Choose the kit to add.")
        return data

    def edits(self):
        data = self.cleaned_data
        kit, count = data.get("add_kit"), data.get("add_kit_count")
        return LineEdits(
            quantities={
                line.pk: data[f"qty_{line.pk}"]
                for line in self.lines
                if data[f"qty_{line.pk}"] != line.quantity
            },
            add=[(item, quantity) for _, item, quantity in self.added],
            remove=[line.pk for line in self.lines if data.get(f"remove_{line.pk}")],
            kits=[(kit, count)] if kit and count else [],
        )

    def field_of(self, problem_field: str) -> str | None:
        """The form field a problem the service reports belongs to, if any."""
        if problem_field.startswith("kit:"):
            return "add_kit"
        for n, item, _ in self.added:
            if item.code == problem_field:
                return self.add_names(n)[0]
        return None


class HeaderForm(forms.Form):
    """A draft's need-by date and priority, and why they change."""

    version = forms.IntegerField(
        widget=forms.HiddenInput,
        error_messages={
            "invalid": "This page is out of date; reload it and try again.",
            "required": "This page is out of date; reload it and try again.",
        },
    )
    need_by = forms.DateField(
        label="Need by",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": "Need by: give a date as YYYY-MM-DD."},
    )
    national_priority = forms.TypedChoiceField(
        label="Priority",
        choices=Priority.choices,
        coerce=int,
        error_messages={"invalid_choice": "Priority: choose one from the list."},
    )
    reason = forms.CharField(
        label="Why",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept in the order's history with your name.",
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
