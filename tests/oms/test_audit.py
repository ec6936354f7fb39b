"""No change without an actor; one correlation id through everything a request did."""

import pytest

from catalog.models import Item
from oms import audit, correlation
from oms.actors import Actor
from oms.audit import MissingActor

pytestmark = pytest.mark.django_db


def test_a_change_without_an_actor_is_refused():
    with pytest.raises(MissingActor):
        Item.objects.create(code="X-1", description="Cable", category="cable")

    assert not Item.objects.filter(code="X-1").exists()


@pytest.mark.parametrize(
    ("actor", "kind", "name", "has_user"),
    [
        (Actor.system("nightly-import"), "system", "nightly-import", False),
        (Actor.client("engineering"), "client", "engineering", False),
    ],
)
def test_history_records_the_kind_of_actor(actor, kind, name, has_user):
    with audit.acting(actor, reason="catalog sync"), correlation.use("corr-7"):
        item = Item.objects.create(code="X-2", description="Cable", category="cable")

    record = item.history.get()
    assert (record.actor_kind, record.actor_name) == (kind, name)
    assert record.history_user is None
    assert record.history_change_reason == "catalog sync"
    assert record.correlation_id == "corr-7"


def test_history_of_a_person_names_the_user(coordinator):
    with audit.acting(Actor.person(coordinator)):
        item = Item.objects.create(code="X-3", description="Cable", category="cable")

    record = item.history.get()
    assert record.history_user == coordinator
    assert (record.actor_kind, record.actor_name) == ("person", coordinator.username)


def test_correlation_header_is_echoed_or_made(client):
    echoed = client.get("/login/", headers={"X-Correlation-ID": "abc-123"})
    made = client.get("/login/")
    junk = client.get("/login/", headers={"X-Correlation-ID": "bad id with spaces"})

    assert echoed["X-Correlation-ID"] == "abc-123"
    assert len(made["X-Correlation-ID"]) == 32
    assert junk["X-Correlation-ID"] != "bad id with spaces"


def test_history_written_from_the_database_rows_carries_each_rows_reason_and_the_actor(
    coordinator,
):
    from django.db import transaction

    from orders.models import OrderLine
    from tests import factories

    first = factories.make_order(lines=[(factories.ItemFactory(), 2), (factories.ItemFactory(), 3)])
    second = factories.make_order(lines=[(factories.ItemFactory(), 5)])
    other = factories.make_order(lines=[(factories.ItemFactory(), 7)])
    history = OrderLine.history.model
    before = set(history.objects.values_list("pk", flat=True))

    with transaction.atomic(), audit.acting(Actor.person(coordinator)):
        audit.bulk_history_of(
            OrderLine.objects.filter(order__in=[first, second]),
            history_type="~",
            key="order_id",
            reasons={first.pk: ("first reason", "corr-1"), second.pk: ("second reason", "corr-2")},
        )

    written = history.objects.exclude(pk__in=before).order_by("id")
    assert sorted(
        (r.order_id, r.quantity, r.history_change_reason, r.correlation_id) for r in written
    ) == sorted(
        [
            *[(first.pk, q, "first reason", "corr-1") for q in (2, 3)],
            (second.pk, 5, "second reason", "corr-2"),
        ]
    )
    assert {(r.history_type, r.actor_kind, r.history_user_id) for r in written} == {
        ("~", "person", coordinator.pk)
    }
    assert not written.filter(order_id=other.pk).exists()
