"""The fast reading of a plainly valid design event gives exactly what the DRF schema
gives, and leaves everything else to the schema."""

import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from orders.choices import DesignEventType, OrderType, PlanType
from orders.ingestion.design import SCHEMAS, _plain_lines, _plain_values, schema_problems

TEXT = st.one_of(
    st.text(alphabet="AB-1 \t", min_size=0, max_size=6),
    st.text(max_size=4),
    st.text(alphabet="x", min_size=39, max_size=102),
    st.integers(-3, 3),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
)
INSTANTS = st.datetimes(
    min_value=datetime.datetime(1990, 1, 1), max_value=datetime.datetime(2100, 1, 1)
)
OFFSETS = st.sampled_from(["Z", "+00:00", "+05:30", "-08:00", ""])


def choice(values):
    return st.one_of(st.sampled_from(values), TEXT)


FIELDS = {
    "event_id": TEXT,
    "type": choice(DesignEventType.values),
    "project_id": TEXT,
    "order_type": choice(OrderType.values),
    "occurred_at": st.one_of(
        st.builds(lambda d, o: d.isoformat() + o, INSTANTS, OFFSETS),
        st.builds(lambda d: d.date().isoformat(), INSTANTS),
        TEXT,
    ),
    "need_by": st.one_of(
        st.builds(lambda d: d.date().isoformat(), INSTANTS),
        st.builds(lambda d: d.isoformat() + "Z", INSTANTS),
        st.just("2026-02-30"),
        TEXT,
    ),
    "national_priority": st.one_of(st.integers(-1, 7), st.just("3"), st.just(2.0), TEXT),
    "plan_type": choice(PlanType.values),
    "items": st.one_of(
        st.lists(
            st.fixed_dictionaries(
                {"item": st.sampled_from(["IT-1", "IT-2"]), "quantity": st.integers(1, 9)}
            ),
            max_size=3,
        ),
        TEXT,
    ),
    "kits": st.one_of(
        st.lists(
            st.fixed_dictionaries({"kit": st.just("KIT-1"), "quantity": st.integers(1, 9)}),
            max_size=2,
        ),
        TEXT,
    ),
    "extra": TEXT,
}
VALID = st.fixed_dictionaries(
    {
        "event_id": st.text(alphabet="abc-123", min_size=1, max_size=100)
        .map(str.strip)
        .filter(bool),
        "type": st.sampled_from(["design_approved", "bom_revised"]),
        "project_id": st.sampled_from(["P-1", "SITE-0042"]),
        "order_type": st.sampled_from(OrderType.values),
        "occurred_at": st.builds(lambda d, o: d.isoformat() + o, INSTANTS, OFFSETS.filter(bool)),
        "need_by": st.builds(lambda d: d.date().isoformat(), INSTANTS),
        "items": st.lists(
            st.fixed_dictionaries({"item": st.just("IT-1"), "quantity": st.integers(1, 9)}),
            min_size=1,
            max_size=3,
        ),
    },
    optional={
        "national_priority": st.integers(1, 5),
        "plan_type": st.sampled_from(PlanType.values),
    },
)


# Valid designs with a few fields changed to anything, or taken away.
PAYLOADS = st.builds(
    lambda base, changed, removed: {
        k: v for k, v in {**base, **changed}.items() if k not in removed
    },
    VALID,
    st.fixed_dictionaries({}, optional=FIELDS),
    st.sets(st.sampled_from(list(FIELDS)), max_size=2),
)


def drf(payload):
    return dict(SCHEMAS[_plain_lines(payload)].run_validation(payload))


@settings(max_examples=400, deadline=None)
@given(PAYLOADS)
def test_the_fast_reading_agrees_with_the_schema_or_leaves_the_payload_to_it(payload):
    fast = _plain_values(payload) if _plain_lines(payload) else None
    if fast is not None:
        assert fast == drf(payload)
        assert [type(fast[k]) for k in fast] == [type(v) for v in drf(payload).values()]


@settings(max_examples=200, deadline=None)
@given(VALID)
def test_a_plainly_valid_design_is_read_without_the_schema(payload):
    fast = _plain_values(payload)
    assert fast is not None
    assert fast == drf(payload)
    assert fast["occurred_at"].tzinfo == drf(payload)["occurred_at"].tzinfo
    assert schema_problems(payload) == (fast, [])
