"""Each ranking criterion orders approved orders as configured."""

import datetime

import pytest

from allocation.choices import Criterion
from allocation.models import OrderTypeRank, PlanTypeRank, RankingConfig
from allocation.ranking import DEFAULT_CRITERIA, Ranking, current_ranking
from oms import audit
from orders import services as order_services
from orders.choices import OrderType, PlanType
from tests.allocation.builders import allocate
from tests.factories import SETUP, make_order

pytestmark = pytest.mark.django_db

LATE, EARLY = datetime.date(2026, 12, 20), datetime.date(2026, 12, 10)


def configure(criteria, plan_type_ranks=None, order_type_ranks=None) -> None:
    """Set the ranking as a catalog admin would in the admin."""
    config, _ = RankingConfig.objects.get_or_create(pk=1)
    with audit.acting(SETUP):
        config.criteria.all().delete()
        for position, criterion in enumerate(criteria, start=1):
            config.criteria.create(position=position, criterion=criterion)
        if plan_type_ranks is not None:
            config.plan_type_ranks.all().delete()
            for plan_type, rank in plan_type_ranks.items():
                PlanTypeRank.objects.create(config=config, plan_type=plan_type, rank=rank)
        if order_type_ranks is not None:
            config.order_type_ranks.all().delete()
            for order_type, rank in order_type_ranks.items():
                OrderTypeRank.objects.create(config=config, order_type=order_type, rank=rank)


def ranks(world, *orders) -> list[int]:
    run = allocate(dry_run=True)
    by_order = dict(run.outcomes.values_list("order_id", "rank"))
    return [by_order[order.pk] for order in orders]


def test_the_default_ranking_is_domain_md_s(db):
    assert (
        current_ranking().criteria
        == DEFAULT_CRITERIA
        == tuple(
            [
                "national_priority",
                "plan_type",
                "order_type",
                "need_by",
                "approved_at",
            ]
        )
    )
    with audit.acting(SETUP):
        RankingConfig.objects.all().delete()
    assert current_ranking() == Ranking()


@pytest.mark.parametrize(
    ("criterion", "urgent", "later"),
    [
        (Criterion.NATIONAL_PRIORITY, {"national_priority": 1}, {"national_priority": 2}),
        (Criterion.PLAN_TYPE, {"plan_type": PlanType.NEW_BUILD}, {"plan_type": PlanType.COVERAGE}),
        (
            Criterion.ORDER_TYPE,
            {"order_type": OrderType.SITE_BUILD},
            {"order_type": OrderType.RADIO},
        ),
        (Criterion.NEED_BY, {"need_by": EARLY}, {"need_by": LATE}),
    ],
)
def test_each_criterion_puts_the_more_urgent_order_first(world, criterion, urgent, later):
    # given the ranking on this criterion alone, and the more urgent order made last
    configure([criterion])
    x = world.items[0]
    second = world.approved([(x, 1)], **later)
    first = world.approved([(x, 1)], **urgent)

    assert ranks(world, first, second) == [1, 2]
    # without the criterion the older order comes first
    configure([])
    assert ranks(world, first, second) == [2, 1]


def test_approval_time_puts_the_order_approved_first_first(world):
    configure([Criterion.APPROVED_AT])
    x = world.items[0]
    older = make_order(project=world.project(), lines=[(x, 1)])
    newer = make_order(project=world.project(), lines=[(x, 1)])
    order_services.order_approve(order=newer, actor=SETUP)
    order_services.order_approve(order=older, actor=SETUP)

    assert ranks(world, newer, older) == [1, 2]


def test_criteria_are_compared_in_the_configured_order(world):
    x = world.items[0]
    urgent_but_late = world.approved([(x, 1)], national_priority=1, need_by=LATE)
    normal_but_soon = world.approved([(x, 1)], national_priority=3, need_by=EARLY)

    configure([Criterion.NATIONAL_PRIORITY, Criterion.NEED_BY])
    assert ranks(world, urgent_but_late, normal_but_soon) == [1, 2]
    configure([Criterion.NEED_BY, Criterion.NATIONAL_PRIORITY])
    assert ranks(world, urgent_but_late, normal_but_soon) == [2, 1]


def test_the_plan_type_ranks_are_the_configured_ones(world):
    x = world.items[0]
    maintenance = world.approved([(x, 1)], plan_type=PlanType.MAINTENANCE)
    new_build = world.approved([(x, 1)], plan_type=PlanType.NEW_BUILD)

    configure([Criterion.PLAN_TYPE])  # defaults: new build 1 ... maintenance 5
    assert ranks(world, new_build, maintenance) == [1, 2]
    configure([Criterion.PLAN_TYPE], plan_type_ranks={"maintenance": 1, "new_build": 2})
    assert ranks(world, maintenance, new_build) == [1, 2]


def test_the_order_type_ranks_are_the_configured_ones(world):
    x = world.items[0]
    power = world.approved([(x, 1)], order_type=OrderType.POWER)
    radio = world.approved([(x, 1)], order_type=OrderType.RADIO)

    configure([Criterion.ORDER_TYPE])  # defaults: site build, radio, transmission, power
    assert ranks(world, radio, power) == [1, 2]
    configure([Criterion.ORDER_TYPE], order_type_ranks={"power": 1, "radio": 3})
    assert ranks(world, power, radio) == [1, 2]


def test_a_type_missing_from_its_rank_table_comes_after_the_ranked_ones(world):
    x = world.items[0]
    unranked = world.approved([(x, 1)], plan_type=PlanType.CAPACITY)
    ranked = world.approved([(x, 1)], plan_type=PlanType.MAINTENANCE)
    configure([Criterion.PLAN_TYPE], plan_type_ranks={"maintenance": 9})

    assert ranks(world, ranked, unranked) == [1, 2]


def test_equal_ranks_tie_and_the_next_criterion_decides(world):
    x = world.items[0]
    coverage = world.approved([(x, 1)], plan_type=PlanType.COVERAGE, need_by=EARLY)
    capacity = world.approved([(x, 1)], plan_type=PlanType.CAPACITY, need_by=LATE)
    configure(
        [Criterion.PLAN_TYPE, Criterion.NEED_BY],
        plan_type_ranks={"coverage": 2, "capacity": 1},
    )
    assert ranks(world, capacity, coverage) == [1, 2]
    configure(
        [Criterion.PLAN_TYPE, Criterion.NEED_BY],
        plan_type_ranks={"coverage": 1, "capacity": 1},
    )
    assert ranks(world, coverage, capacity) == [1, 2]


def test_a_run_records_the_ranking_it_used(world):
    configure([Criterion.NEED_BY], plan_type_ranks={"coverage": 1})
    run = allocate(dry_run=True)
    assert run.ranking["criteria"] == ["need_by"]
    assert run.ranking["plan_type_ranks"] == {"coverage": 1}
