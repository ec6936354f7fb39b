import io

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.urls import reverse

from catalog.models import Item
from oms import demo
from oms.models import OutboxEvent
from orders.choices import OrderStatus
from orders.models import Order, OrderNote
from warehouse.models import StockMovement

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
