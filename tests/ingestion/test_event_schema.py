"""The design event schema (msgspec structs, orders.ingestion.schema) takes exactly what
the API's DRF schema took, with the same values, and reports the same problems (field,
code, message) for everything else; a batch read in one conversion gives what each
event read by itself gives."""

import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from orders.choices import DesignEventType, OrderType, PlanType
from orders.ingestion.schema import DesignEventBody, schema_problems, schema_problems_many
from tests.ingestion.drf_reference import reference, values_of

TEXT = st.one_of(
    st.text(alphabet="AB-1 \t", min_size=0, max_size=6),
    st.text(max_size=4),
    st.text(st.characters(exclude_categories=()), max_size=4),  # NUL, lone surrogates
    st.text(alphabet="x\n\u00a0\x00", min_size=1, max_size=4),
    st.text(alphabet="x", min_size=39, max_size=102),
    st.integers(-3, 3),
    st.integers(),
    st.floats(),
    st.decimals(allow_nan=True),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
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
        st.sampled_from(
            [
                "2026-01-01t10:00:00z",
                "2026-01-01T10:00:00.1234567Z",
                "2026-01-01T10:00:00.9999999+01:00",
                "2026-01-01 10:00:00Z",
                "2026-13-01T10:00:00Z",
                "0001-01-01T00:00:00+01:00",
                "9999-12-31T23:59:59-01:00",
                "2026-01-01T10:00:00+0530",
                "2026-01-01T10:00:00Z\n",
                "20260101T100000Z",
            ]
        ),
        TEXT,
    ),
    "need_by": st.one_of(
        st.builds(lambda d: d.date().isoformat(), INSTANTS),
        st.builds(lambda d: d.isoformat() + "Z", INSTANTS),
        st.sampled_from(["2026-02-30", "2026-1-5", "20260105", "2026-01-05\n", " 2026-01-05"]),
        TEXT,
    ),
    "national_priority": st.one_of(
        st.integers(-1, 7), st.sampled_from(["3", " 4 ", "5.00", "3_0", "2e0"]), st.just(2.0), TEXT
    ),
    "plan_type": choice(PlanType.values),
    "items": st.one_of(
        st.lists(
            st.fixed_dictionaries(
                {"item": st.sampled_from(["IT-1", "IT-2"]), "quantity": st.integers(1, 9)}
            ),
            max_size=3,
        ),
        st.lists(
            st.one_of(
                st.fixed_dictionaries(
                    {"item": st.sampled_from(["IT-1", " IT-2", 42]), "quantity": TEXT},
                    optional={"note": TEXT},
                ),
                st.fixed_dictionaries({}, optional={"item": TEXT, "quantity": TEXT}),
                TEXT,
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


def agree(payload):
    values, problems = schema_problems(payload)
    expected_values, expected_problems = reference(payload)
    assert problems == expected_problems
    if values is None:
        assert expected_values is None
        return
    assert isinstance(values, DesignEventBody)
    got, expected = values_of(values), expected_values
    assert got == expected
    assert [type(got[k]) for k in got] == [type(expected[k]) for k in got]
    assert got["occurred_at"].tzinfo == expected["occurred_at"].tzinfo


@settings(max_examples=600, deadline=None)
@given(PAYLOADS)
def test_the_schema_takes_and_refuses_what_the_api_schema_did_with_the_same_problems(payload):
    agree(payload)


@settings(max_examples=200, deadline=None)
@given(VALID)
def test_a_plainly_valid_design_is_read_with_its_values(payload):
    agree(payload)
    values, problems = schema_problems(payload)
    assert problems == [] and values is not None


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(VALID, PAYLOADS, TEXT), max_size=4))
def test_a_batch_read_at_once_gives_what_each_event_gives_by_itself(payloads):
    assert schema_problems_many(payloads) == [schema_problems(p) for p in payloads]
