"""The order filters, shared by the back office queue and the API."""

import django_filters
from django.contrib.auth import get_user_model
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field

from oms.filters import SinceFilter, StrictFilterSet, YesNoFilter
from orders.choices import OrderKind, OrderStatus, OrderType, PlanType, Priority, ProjectStatus
from orders.models import Order, Project
from orders.selectors import coordinators, jeopardy_condition, orders_matching_text, person_name

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
    updated_since = SinceFilter()
    q = django_filters.CharFilter(
        method="filter_text", help_text="Order number, project ID or site code (prefix)."
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
        return orders_matching_text(queryset, value)


class ProjectFilter(StrictFilterSet):
    market = django_filters.CharFilter(field_name="market__code")
    region = django_filters.CharFilter(field_name="market__region__code")
    status = django_filters.ChoiceFilter(choices=ProjectStatus.choices)
    updated_since = SinceFilter()

    class Meta:
        model = Project
        fields: list[str] = []
