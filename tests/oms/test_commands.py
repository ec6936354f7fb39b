import io

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from catalog.models import Item
from oms.models import OutboxEvent
from oms.shell import demo
from orders import ingestion
from orders.choices import DesignOutcome, OrderStatus
from orders.models import DesignEvent, Order, OrderNote
from warehouse.ledger.models import StockMovement

pytestmark = pytest.mark.django_db


def test_create_user_gives_the_role(capsys):
    call_command("create_user", "dana", role="coordinator", password="a-long-enough-pass-42")
    user = User.objects.get(username="dana")
    assert list(user.groups.values_list("name", flat=True)) == ["coordinator"]
    assert not user.is_staff and user.check_password("a-long-enough-pass-42")
    assert user.has_perm("orders.approve_order")
    assert "Created dana" in capsys.readouterr().out


def test_create_user_again_updates_the_role(capsys):
    call_command("create_user", "dana", role="coordinator", password="a-long-enough-pass-42")
    call_command("create_user", "dana", role="viewer", password="another-long-pass-42")
    user = User.objects.get(username="dana")
    assert list(user.groups.values_list("name", flat=True)) == ["viewer"]
    assert "Updated dana" in capsys.readouterr().out


@pytest.mark.parametrize(("role", "staff"), [("catalog_admin", True), ("coordinator", False)])
def test_create_user_makes_staff_only_the_roles_that_administer(role, staff):
    call_command("create_user", "dana", role="catalog_admin", password="a-long-enough-pass-42")
    call_command("create_user", "dana", role=role, password="a-long-enough-pass-42")
    assert User.objects.get(username="dana").is_staff is staff


def test_create_user_refuses_a_weak_password():
    with pytest.raises(CommandError, match="too short"):
        call_command("create_user", "dana", role="viewer", password="abc")
    assert not User.objects.filter(username="dana").exists()


def test_seed_demo_covers_every_status_and_prints_working_logins(client, capsys):
    call_command("seed_demo")
    out = capsys.readouterr().out
    statuses = set(Order.objects.values_list("status", flat=True))
    assert statuses == set(OrderStatus.values)
    assert Order.objects.exclude(reason_code="").exists()  # a rejected draft
    notes = OrderNote.objects.filter(actor_name="coordinator", actor_kind="person")
    assert notes.count() == len(demo.DEMO_NOTES)
    for user in demo.USERS:
        line = next(line for line in out.splitlines() if line.split()[:1] == [user.username])
        password = line.split()[1]
        signed_in = client.post(reverse("login"), {"username": user.username, "password": password})
        assert signed_in.status_code == 302, user.username
        assert signed_in["Location"] == reverse("home")
        client.post(reverse("logout"))


def test_demo_users_are_staff_only_where_they_administer(client):
    call_command("seed_demo", stdout=io.StringIO())
    staff = set(User.objects.filter(is_staff=True).values_list("username", flat=True))
    assert staff == {"admin", "catalog"}
    assert set(User.objects.values_list("username", flat=True)) >= {
        "coordinator",
        "coordinator2",
        "viewer",
    }
    client.force_login(User.objects.get(username="viewer"))
    admin = client.get(reverse("admin:index"))
    assert admin.status_code == 302 and admin["Location"].startswith(reverse("admin:login"))
    assert b'href="/admin/"' not in client.get(reverse("home")).content
    client.force_login(User.objects.get(username="catalog"))
    assert client.get(reverse("admin:index")).status_code == 200


def test_demo_orders_come_from_design_events_so_an_upstream_change_follows_the_rules():
    # Given the demo's released and closed orders
    call_command("seed_demo", stdout=io.StringIO())
    released = Order.objects.filter(status="released", kind="original").first()
    closed = Order.objects.filter(status="closed", kind="original").first()
    assert not Order.objects.exclude(
        number__in=DesignEvent.objects.exclude(order=None).values("order__number")
    ).exists()

    # When the engineering system changes their designs
    outcomes = []
    for n, order in enumerate((released, closed)):
        line = order.lines.select_related("item").first()
        body = {
            "event_id": f"demo-change-{n}",
            "type": "design_approved",
            "project_id": order.project.external_id,
            "order_type": order.order_type,
            "occurred_at": timezone.now().isoformat(),
            "need_by": order.need_by.isoformat(),
            "items": [{"item": line.item.code, "quantity": line.quantity + 2}],
        }
        event = ingestion.process(ingestion.receive(body, received_from="tests").event)
        outcomes.append((event.outcome, event.order.kind, event.order.parent_id))

    # Then each gets a follow-up order on top of it, not a second original order
    assert outcomes == [
        (DesignOutcome.DELTA_ORDER, "delta", released.pk),
        (DesignOutcome.SUPPLEMENTAL_ORDER, "supplemental", closed.pk),
    ]


def test_seed_demo_twice_changes_nothing(capsys):
    call_command("seed_demo")
    counts = (
        Order.objects.count(),
        Item.objects.count(),
        StockMovement.objects.count(),
        OutboxEvent.objects.count(),
    )
    call_command("seed_demo")
    assert "already loaded" in capsys.readouterr().out
    assert counts == (
        Order.objects.count(),
        Item.objects.count(),
        StockMovement.objects.count(),
        OutboxEvent.objects.count(),
    )


def test_create_api_client_prints_a_working_token(client, capsys):
    call_command("create_api_client", "erp", scopes=["orders:read", "events:read"])
    token = capsys.readouterr().out.strip().splitlines()[-1]
    response = client.get("/api/v1/orders/", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    forbidden = client.get("/api/v1/items/", headers={"Authorization": f"Bearer {token}"})
    assert forbidden.status_code == 403


def test_create_api_client_refuses_a_duplicate_name():
    call_command("create_api_client", "erp", scopes=["orders:read"])
    with pytest.raises(CommandError, match="exists"):
        call_command("create_api_client", "erp", scopes=["orders:read"])
