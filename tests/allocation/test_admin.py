"""Catalog admins tune the ranking in the admin; others may only look at it."""

import pytest
from django.urls import reverse

from allocation.models import PlanTypeRank, RankingConfig
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = reverse("admin:allocation_rankingconfig_change", args=[1])


def _form(config: RankingConfig, **ranks) -> dict:
    """The change form as the admin posts it, with some plan type ranks changed."""
    data = {}
    for prefix, rows, fields in [
        ("criteria", config.criteria.order_by("position"), ("position", "criterion")),
        ("plan_type_ranks", config.plan_type_ranks.all(), ("plan_type", "rank")),
        ("order_type_ranks", config.order_type_ranks.all(), ("order_type", "rank")),
    ]:
        rows = list(rows)
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": len(rows),
                f"{prefix}-INITIAL_FORMS": len(rows),
                f"{prefix}-MIN_NUM_FORMS": 0,
                f"{prefix}-MAX_NUM_FORMS": 1000,
            }
        )
        for n, row in enumerate(rows):
            data[f"{prefix}-{n}-id"] = row.pk
            data[f"{prefix}-{n}-config"] = config.pk
            for field in fields:
                value = getattr(row, field)
                if prefix == "plan_type_ranks" and field == "rank":
                    value = ranks.get(row.plan_type, value)
                data[f"{prefix}-{n}-{field}"] = value
    return data


def test_a_catalog_admin_changes_a_rank_and_is_its_actor(client):
    admin = UserFactory(role="catalog_admin")
    client.force_login(admin)
    config = RankingConfig.objects.get(pk=1)
    assert client.get(URL).status_code == 200

    response = client.post(URL, _form(config, maintenance=1))

    assert response.status_code == 302, response.content
    rank = PlanTypeRank.objects.get(plan_type="maintenance")
    assert rank.rank == 1
    record = rank.history.latest()
    assert (record.actor_kind, record.history_user) == ("person", admin)


def test_a_coordinator_sees_the_ranking_but_cannot_change_it(client):
    client.force_login(UserFactory(role="coordinator", is_staff=True))
    config = RankingConfig.objects.get(pk=1)
    assert client.get(URL).status_code == 200
    assert client.post(URL, _form(config, maintenance=1)).status_code == 403
    assert PlanTypeRank.objects.get(plan_type="maintenance").rank == 5
