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
