"""A plain planning row is read in one conversion (orders.project_import.ProjectRow):
it gives exactly the values and problems that the column-by-column reading gives, and
every other row is left to that reading."""

import datetime
import math
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from orders.choices import PlanType, ProjectStatus
from orders.models import Market, Region
from orders.project_import import MILESTONE_FIELDS, _plain_row, _row_by_columns, validate_row

MARKETS = {
    code: Market(code=code, name=code, region=Region(code=region, name=region))
    for code, region in (("NYC", "EAST"), ("LAX", "WEST"))
}
ODD = st.one_of(
    st.none(),
    st.just(""),
    st.text(max_size=4),
    st.text(st.characters(exclude_categories=()), max_size=3),  # NUL, lone surrogates
    st.text(alphabet="x", min_size=19, max_size=45),
    st.integers(-200, 200),
    st.floats(),
    st.booleans(),
    st.decimals(allow_nan=True),
    st.dates().map(lambda d: datetime.datetime.combine(d, datetime.time(5))),
)
DATES = st.dates(datetime.date(2020, 1, 1), datetime.date(2030, 1, 1))
COLUMNS = {
    "project_id": st.one_of(st.sampled_from(["PRJ-1", " PRJ-2", "P/1", "PRJ\t3"]), ODD),
    "site_code": st.one_of(st.just("SITE-1"), ODD),
    "market": st.one_of(st.sampled_from(["NYC", "LAX", "SFO", "NYC "]), ODD),
    "plan_type": st.one_of(st.sampled_from(PlanType.values), ODD),
    "name": st.one_of(st.sampled_from(["Main St", "Café", "a\x7fb"]), ODD),
    "region": st.one_of(st.sampled_from(["EAST", "WEST"]), ODD),
    "status": st.one_of(st.sampled_from(ProjectStatus.values), ODD),
    "latitude": st.one_of(st.floats(-91, 91), st.integers(-91, 91), ODD),
    "longitude": st.one_of(st.floats(-181, 181), ODD),
    **{
        column: st.one_of(DATES, DATES.map(datetime.date.isoformat), ODD)
        for column in MILESTONE_FIELDS
    },
}
PLAIN = st.fixed_dictionaries(
    {
        "project_id": st.sampled_from(["PRJ-1", "SITE-0042"]),
        "site_code": st.just("S-1"),
        "market": st.sampled_from(["NYC", "LAX"]),
        "plan_type": st.sampled_from(PlanType.values),
    },
    optional={
        "name": st.one_of(st.none(), st.just("Main St")),
        "region": st.one_of(st.none(), st.sampled_from(["EAST", "WEST"])),
        "status": st.one_of(st.none(), st.sampled_from(ProjectStatus.values)),
        "latitude": st.one_of(st.none(), st.floats(-90, 90)),
        "longitude": st.one_of(st.none(), st.floats(-180, 180)),
        **{column: st.one_of(st.none(), DATES) for column in MILESTONE_FIELDS},
    },
)
ROWS = st.builds(
    lambda base, changed, removed: {
        k: v for k, v in {**base, **changed}.items() if k not in removed
    },
    PLAIN,
    st.fixed_dictionaries({}, optional=COLUMNS),
    st.sets(st.sampled_from(list(COLUMNS)), max_size=2),
)


def same(a, b) -> bool:
    """Values equal, NaN-free Decimals compared by value and exponent."""
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return a == b and a.as_tuple() == b.as_tuple()
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


@settings(max_examples=600, deadline=None)
@given(ROWS)
def test_a_row_read_in_one_conversion_gives_what_the_columns_give(raw):
    values, problems = validate_row(raw, MARKETS)
    expected_values, expected_problems = _row_by_columns(raw, MARKETS)
    assert problems == expected_problems
    assert (values is None) == (expected_values is None)
    if values is not None:
        assert values.keys() == expected_values.keys()
        assert all(same(values[k], expected_values[k]) for k in values)


@settings(max_examples=200, deadline=None)
@given(PLAIN)
def test_a_plain_row_is_read_in_one_conversion(raw):
    assert _plain_row(raw, MARKETS) is not None
