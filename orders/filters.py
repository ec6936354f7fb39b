"""The order filters, shared by the back office queue and the API."""

from dataclasses import dataclass, replace

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Count
from django.http import QueryDict
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field

from oms.filters import IsoDateFilter, SinceFilter, StrictFilterSet, YesNoFilter
from oms.text_search import TRIGRAM_MIN_LENGTH
from orders.choices import OrderKind, OrderStatus, OrderType, PlanType, Priority, ProjectStatus
from orders.models import Market, Order, Project
from orders.selectors import coordinators, jeopardy_condition, person_name, text_condition

ME, NOBODY = "me", "none"


def assignee_choices(*, me: bool = True) -> list[tuple[str, str]]:
    """Me (for a person), unassigned, then each coordinator by username. Read when the
    filter is shown or given a value, not when it is left out."""
    mine = [(ME, "Me")] if me else []
    return [*mine, (NOBODY, "Unassigned"), *((u.username, person_name(u)) for u in coordinators())]


def asking_person(request):
    """The signed-in person behind the request, or None (no request, an external client)."""
    user = getattr(request, "user", None)
    return user if isinstance(user, get_user_model()) and user.is_authenticated else None


# The longest username Django keeps.
USERNAME_LENGTH = 150


@extend_schema_field(
    {
        "type": "string",
        "maxLength": USERNAME_LENGTH,
        "description": "me (the person asking), none (unassigned) or a coordinator's "
        "username; a username nobody has lists no orders.",
    }
)
class AssigneeFilter(django_filters.ChoiceFilter):
    """Whose orders: a choice of the coordinators for a person in the back office. For an
    external system (no person) any username is a question with an answer: the orders
    of a coordinator of that name, none when there is none, and `me` holds nothing."""


class OrderFilter(StrictFilterSet):
    # The choice filters read the order's own columns, so no DISTINCT is needed (it
    # would make every count sort all matching rows).
    status = django_filters.MultipleChoiceFilter(choices=OrderStatus.choices, distinct=False)
    project = django_filters.CharFilter(
        field_name="project__external_id", help_text="The project ID."
    )
    market = django_filters.CharFilter(field_name="project__market__code", help_text="Code.")
    region = django_filters.CharFilter(
        field_name="project__market__region__code", help_text="Code."
    )
    order_type = django_filters.MultipleChoiceFilter(choices=OrderType.choices, distinct=False)
    kind = django_filters.MultipleChoiceFilter(choices=OrderKind.choices, distinct=False)
    plan_type = django_filters.MultipleChoiceFilter(choices=PlanType.choices, distinct=False)
    priority = django_filters.MultipleChoiceFilter(
        field_name="national_priority", choices=Priority.choices, distinct=False
    )
    gated = YesNoFilter()
    has_reason = YesNoFilter(
        method="filter_has_reason", help_text="Has a rejection or cancellation reason."
    )
    jeopardy = YesNoFilter(
        method="filter_jeopardy",
        help_text="Longer in its status than allowed, or needed soon and not released.",
    )
    need_by_from = IsoDateFilter(
        field_name="need_by",
        lookup_expr="gte",
        help_text="Needed on or after this date, YYYY-MM-DD.",
    )
    need_by_to = IsoDateFilter(
        field_name="need_by",
        lookup_expr="lte",
        help_text="Needed on or before this date, YYYY-MM-DD.",
    )
    updated_since = SinceFilter()
    q = django_filters.CharFilter(
        method="filter_text",
        help_text="Part of an order number, project ID, site code or site name, or of the "
        "code or description of an item on the order, in any case. Text shorter than "
        f"{TRIGRAM_MIN_LENGTH} characters matches the start of those.",
    )
    assignee = AssigneeFilter(
        choices=assignee_choices,
        method="filter_assignee",
        empty_label="Anyone",
        help_text="me (the person asking), none (unassigned) or a coordinator's username.",
        error_messages={
            "invalid_choice": "Give me, none or the username of a coordinator; "
            "%(value)s is none of them."
        },
    )

    class Meta:
        model = Order
        fields: list[str] = []

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        self.person = asking_person(request)
        if self.person is None:  # any username; "me" is nobody, never read as someone else
            self.filters["assignee"] = django_filters.CharFilter(
                field_name="assignee",
                method="filter_assignee",
                max_length=USERNAME_LENGTH,
                help_text=self.filters["assignee"].extra.get("help_text"),
            )
            self.filters["assignee"].parent = self
            self.filters["assignee"].model = Order

    def filter_assignee(self, queryset, name, value):
        if value == ME:
            return queryset.filter(assignee=self.person) if self.person else queryset.none()
        if value == NOBODY:
            return queryset.filter(assignee__isnull=True)
        return queryset.filter(assignee__username=value)

    def filter_has_reason(self, queryset, name, value):
        return queryset.exclude(reason_code="") if value else queryset.filter(reason_code="")

    def filter_jeopardy(self, queryset, name, value):
        condition = jeopardy_condition(timezone.localdate())
        return queryset.filter(condition) if value else queryset.exclude(condition)

    def filter_text(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        # The projects and items are looked up once, however often the filter is applied
        # (the queue applies it to its page and to its status tabs' counts).
        if getattr(self, "_text", (None,))[0] != value:
            self._text = (value, text_condition(value))
        return queryset.filter(self._text[1])


# The queue's page sizes; the first page size is the views' PAGE_SIZE when none is asked.
PAGE_SIZES = (25, 50, 100, 200)
# The filters a person picks several values of, shown as lists of checkboxes.
MULTIPLE = ("status", "priority", "plan_type", "order_type", "kind")


class ReadOnce:
    """Choices read from the database at most once, however often the form is copied
    (each form deep-copies its fields) or its choices iterated (validated, then shown)."""

    def __init__(self, read):
        self.read = read
        self.value = None

    def __call__(self) -> list:
        if self.value is None:
            self.value = list(self.read())
        return self.value

    def __deepcopy__(self, memo):
        return self


@dataclass(frozen=True)
class Chip:
    """One active filter value, as the queue shows it above the table: "Market: NYC",
    with the query string that is the same view without it."""

    name: str
    label: str
    text: str
    value: str
    without: str


class QueueFilter(OrderFilter):
    """The back office queue's filter: OrderFilter, with the markets and regions as
    choices of the known ones (an unknown code is the field's error, while the API reads
    it as a question whose answer is no orders), the choice filters as checkboxes, and
    the page size. The known markets, regions and coordinators are each read once per
    request, whether the form is validated, shown, or both."""

    LABELS = {
        "q": "Search",
        "status": "Status",
        "market": "Market",
        "region": "Region",
        "priority": "Priority",
        "plan_type": "Plan type",
        "order_type": "Order type",
        "kind": "Kind",
        "gated": "Gated",
        "has_reason": "Has a reason",
        "jeopardy": "In jeopardy",
        "assignee": "Assignee",
        "need_by_from": "Need by from",
        "need_by_to": "Need by to",
        "updated_since": "Changed since",
        "per_page": "Rows per page",
    }

    market = django_filters.ChoiceFilter(
        field_name="project__market__code",
        choices=list,  # the known markets, set per request
        empty_label="Any market",
        error_messages={"invalid_choice": "%(value)s is not the code of a market."},
    )
    region = django_filters.ChoiceFilter(
        field_name="project__market__region__code",
        choices=list,
        empty_label="Any region",
        error_messages={"invalid_choice": "%(value)s is not the code of a region."},
    )
    per_page = django_filters.ChoiceFilter(
        choices=[(str(n), str(n)) for n in PAGE_SIZES],
        method="filter_nothing",
        error_messages={
            "invalid_choice": "Show "
            + ", ".join(str(n) for n in PAGE_SIZES[:-1])
            + f" or {PAGE_SIZES[-1]} orders per page; %(value)s is none of them."
        },
    )

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        if self.is_bound and not isinstance(self.data, QueryDict):  # a dict, in tests
            query = QueryDict(mutable=True)
            for key, value in self.data.items():
                query.setlist(key, value if isinstance(value, list) else [value])
            self.data = query
        # A filter's form field is made once and kept on the filter; one made from the
        # class's filters (the API schema reads them) must not stand for these.
        for filter_ in self.filters.values():
            filter_.__dict__.pop("_field", None)
        markets = ReadOnce(lambda: Market.objects.select_related("region").order_by("code"))
        self.filters["market"].extra["choices"] = ReadOnce(lambda: market_choices(markets()))
        self.filters["region"].extra["choices"] = ReadOnce(lambda: region_choices(markets()))
        if self.person is not None:
            self.filters["assignee"].extra["choices"] = ReadOnce(
                self.filters["assignee"].extra["choices"]
            )
        for name in MULTIPLE:
            self.filters[name].extra["widget"] = forms.CheckboxSelectMultiple
        for name, label in self.LABELS.items():
            self.filters[name].label = label
        self.filters["q"].extra["help_text"] = (
            "Any part of an order number, project, site or item "
            f"({TRIGRAM_MIN_LENGTH} characters or more; fewer match the start)."
        )

    @property
    def picked(self) -> dict[str, str]:
        """For each checkbox list, the labels of its checked boxes, or "Any"."""
        chosen = self.data if self.is_bound else {}
        picked = {}
        for name in MULTIPLE:
            values = set(chosen.getlist(name)) if chosen else set()
            labels = [str(label) for key, label in self.filters[name].extra["choices"]]
            keys = [str(key) for key, _ in self.filters[name].extra["choices"]]
            texts = [text for key, text in zip(keys, labels, strict=True) if key in values]
            picked[name] = ", ".join(texts) or "Any"
        return picked

    def filter_nothing(self, queryset, name, value):
        return queryset

    def page_size(self) -> int | None:
        """The page size asked for, if it is one of PAGE_SIZES."""
        if not self.is_bound or "per_page" not in self.form.data:
            return None
        self.form.is_valid()
        value = self.form.cleaned_data.get("per_page")
        return int(value) if value else None

    def status_counts(self) -> dict[str, int]:
        """The orders of each status that every filter but the status one lets through,
        in one query (GROUP BY status)."""
        queryset = self.queryset.all()
        if self.is_bound:
            self.form.is_valid()
            for name, value in self.form.cleaned_data.items():
                if name != "status":
                    queryset = self.filters[name].filter(queryset, value)
        return dict(queryset.order_by().values_list("status").annotate(n=Count("pk")))

    def chips(self) -> list[Chip]:
        """The active filters, one chip per value given, in the form's order, each with
        its label (the page size is not a filter: it has no chip). A value the form
        refused has no chip: its error is shown instead."""
        if not self.is_bound:
            return []
        self.form.is_valid()
        chips = []
        for name, field in self.form.fields.items():
            if name == "per_page" or name not in self.form.cleaned_data:
                continue
            choices = getattr(field, "choices", getattr(field.widget, "choices", ()))
            labels = {str(k): v for k, v in choices}
            for value in dict.fromkeys(self.data.getlist(name)):
                if value.strip():
                    text = str(labels.get(value, value))
                    chips.append(Chip(name, self.LABELS.get(name, name), text, value, ""))
        return [replace(chip, without=self._without(chip)) for chip in chips]

    def _without(self, chip: Chip) -> str:
        query = self.data.copy()
        query.pop("page", None)
        kept = [v for v in query.getlist(chip.name) if v != chip.value]
        if kept:
            query.setlist(chip.name, kept)
        else:
            query.pop(chip.name, None)
        return query.urlencode()


def market_choices(markets) -> list[tuple[str, str]]:
    return [(m.code, f"{m.code} · {m.name}") for m in markets]


def region_choices(markets) -> list[tuple[str, str]]:
    regions = {m.region.code: m.region for m in markets}
    return [(code, f"{code} · {regions[code].name}") for code in sorted(regions)]


class ProjectFilter(StrictFilterSet):
    market = django_filters.CharFilter(field_name="market__code")
    region = django_filters.CharFilter(field_name="market__region__code")
    status = django_filters.ChoiceFilter(choices=ProjectStatus.choices)
    updated_since = SinceFilter()

    class Meta:
        model = Project
        fields: list[str] = []
