"""Properties over every write operation of the OpenAPI schema: whatever hostile
strings and structures a client sends (NUL, lone surrogates, deep nesting, numbers
beyond any column, wrong types), the answer is never a 5xx and an Idempotency-Key is
never left in progress; in a batch, the good records are kept."""

import json
import uuid

import pytest
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from oms.models import IdempotencyKey
from orders.choices import OrderStatus
from orders.models import DesignEvent, Market, Project
from tests import factories
from warehouse.integration.models import Release

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

WRITE_METHODS = ("post", "put", "patch", "delete")
BOUNDED = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def _write_operations() -> list[tuple[str, str]]:
    paths = _schema()["paths"]
    return [
        (method, path)
        for path, operations in paths.items()
        for method in operations
        if method in WRITE_METHODS
    ]


SCHEMA = _schema()
OPERATIONS = _write_operations()


def _request_properties(method: str, path: str) -> list[str]:
    """The top-level property names of the operation's JSON request body."""
    body = SCHEMA["paths"][path][method].get("requestBody", {})
    schema = body.get("content", {}).get("application/json", {}).get("schema", {})
    if "$ref" in schema:
        schema = SCHEMA["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return sorted(schema.get("properties", {}))


# --- Hostile values -----------------------------------------------------------------------

BAD_TEXT = st.sampled_from(["\x00", "\ud800", "a\x00b", "x\udfffy", "\udc80", "MO-1/\x00"])
ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=12)  # surrogates included
NUMBERS = st.one_of(
    st.sampled_from([2**31, -(2**31) - 1, 2**63, -(2**63) - 1, 10**30, -1, 0, 1e308, -1e308]),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
)
LEAVES = st.one_of(BAD_TEXT, ANY_TEXT, NUMBERS, st.booleans(), st.none())
STRUCTURES = st.recursive(
    LEAVES,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.one_of(BAD_TEXT, ANY_TEXT), children, max_size=3),
    ),
    max_leaves=8,
)
# Hypothesis raises the recursion limit while it runs, so the deep bodies here are far
# deeper than the 1,000 levels that crash a plain json.loads in a web worker.
RAW_TEXTS = (
    "[" * 100_000 + "]" * 100_000,
    '{"a":' * 50_000 + "1" + "}" * 50_000,
    '{"quantity": 1e400}',
    '{"quantity": NaN}',
    '{"quantity": ' + "9" * 5000 + "}",
    '"\\u0000"',
    '{"text": "\\ud800"}',
    "\xff\xfe",
    "",
    "null",
)
RAW_BODIES = st.sampled_from(RAW_TEXTS)


@st.composite
def bodies(draw, properties: list[str]):
    """A JSON-encodable body shaped like the operation's input with hostile values, any
    hostile structure, or a raw text that is not acceptable JSON."""
    kind = draw(st.sampled_from(["shaped", "structure", "raw"]))
    if kind == "shaped" and properties:
        names = draw(st.lists(st.sampled_from(properties), min_size=1, unique=True))
        return {name: draw(STRUCTURES) for name in names}
    if kind == "raw":
        return draw(RAW_BODIES)
    return draw(STRUCTURES)


# --- Every write operation ------------------------------------------------------------------


@pytest.fixture
def path_values(acting_system):
    """Path parameters that name objects that exist, so requests reach the views."""
    released = factories.order_in(OrderStatus.RELEASED)
    event = DesignEvent.objects.create(
        event_id="e-dead", payload={"event_id": "e-dead"}, status=DesignEvent.Status.INVALID
    )
    return {
        "number": factories.make_order().number,
        "event_id": event.event_id,
        "release_id": str(Release.objects.get(order=released).release_id),
    }


def _url(path: str, values: dict) -> str:
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, path
    return path


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_no_hostile_body_gets_a_server_error(api, path_values, method, path):
    url = _url(path, path_values)
    properties = _request_properties(method, path)

    def check(body, key):
        headers = {"Idempotency-Key": key} if key else {}
        text = body if isinstance(body, str) else json.dumps(body)
        response = getattr(api.http, method)(
            url,
            text.encode("utf-8", "surrogatepass"),
            content_type="application/json",
            headers=api._headers({"If-Match": '"1"', **headers}),
        )
        assert response.status_code < 500, (method, url, text[:300], response.content[:500])
        assert not IdempotencyKey.objects.filter(in_progress=True).exists()

    # The known hostile cases are always tried, besides the generated ones.
    for body in (*RAW_TEXTS, *_known_cases(properties)):
        check = example(body=body, key=None)(check)
    BOUNDED(given(body=bodies(properties), key=st.one_of(st.none(), st.uuids().map(str)))(check))()


KNOWN_VALUES = ["\x00", "\ud800", 2**63, -(2**31) - 1, 1e308, {"a": ["b"]}, [None], True]


def _known_cases(properties: list[str]) -> list[dict]:
    """Every property holding each known hostile value, one value per body."""
    return [{name: value for name in properties} for value in KNOWN_VALUES if properties]


def test_every_write_operation_of_the_schema_is_covered():
    # The property above iterates the schema, so new operations are covered as they come.
    assert len(OPERATIONS) >= 15
    assert ("post", "/api/v1/design-events/") in OPERATIONS
    assert ("post", "/api/v1/projects/") in OPERATIONS


# --- Batches keep their good records ----------------------------------------------------------


def _poison(record: dict, draw, fields: list[str]) -> dict:
    """The record with one of its strings (or a nested one) holding refused text."""
    name = draw(st.sampled_from(fields))
    bad = draw(BAD_TEXT)
    poisoned = dict(record)
    if name == "items":
        poisoned["items"] = [{"item": "RRU-A", "quantity": 1, "note": bad}]
    else:
        poisoned[name] = f"{record.get(name, '')}{bad}"
    return poisoned


@st.composite
def design_event_batches(draw, project_id: str):
    batch_id = uuid.uuid4().hex[:8]
    good_or_bad = draw(st.lists(st.booleans(), min_size=1, max_size=8))
    batch = []
    for index, good in enumerate(good_or_bad):
        record = {
            "event_id": f"e-{batch_id}-{index}",
            "type": "design_approved",
            "project_id": project_id,
            "order_type": "radio",
            "occurred_at": "2026-11-01T09:00:00Z",
            "items": [{"item": "RRU-A", "quantity": 1}],
        }
        fields = ["event_id", "type", "project_id", "order_type", "occurred_at", "items"]
        batch.append((good, record if good else _poison(record, draw, fields)))
    return batch


@BOUNDED
@given(data=st.data())
def test_a_design_event_batch_keeps_its_good_events(api, acting_system, data):
    project = factories.ProjectFactory()
    batch = data.draw(design_event_batches(project.external_id))
    body = [record for _, record in batch]

    response = api.post("/api/v1/design-events/", body)

    assert response.status_code == 202, response.content[:500]
    results = response.json()["results"]
    assert len(results) == len(batch)
    for (good, record), result in zip(batch, results, strict=True):
        if good:
            assert result["status"] != "rejected", result
            assert DesignEvent.objects.filter(event_id=record["event_id"]).exists()
        else:
            assert result["status"] == "rejected"
            assert result["problems"][0]["code"] == "invalid_text"
    again = api.post("/api/v1/design-events/", body).json()["results"]
    assert [r["outcome"] == "duplicate" for r in again] == [good for good, _ in batch]


@st.composite
def project_batches(draw):
    batch_id = uuid.uuid4().hex[:8]
    good_or_bad = draw(st.lists(st.booleans(), min_size=1, max_size=8))
    batch = []
    for index, good in enumerate(good_or_bad):
        record = {
            "project_id": f"P-{batch_id}-{index}",
            "site_code": "NYC0001",
            "name": "Roof",
            "market": "NYC",
            "plan_type": "new_build",
        }
        fields = ["project_id", "site_code", "name", "market", "plan_type"]
        batch.append((good, record if good else _poison(record, draw, fields)))
    return batch


@BOUNDED
@given(batch=project_batches())
def test_a_project_batch_keeps_its_good_projects(api, batch):
    if not Market.objects.filter(code="NYC").exists():
        factories.MarketFactory(code="NYC", region=factories.RegionFactory(code="EAST"))
    body = [record for _, record in batch]

    response = api.post("/api/v1/projects/", body, headers={"Idempotency-Key": uuid.uuid4().hex})

    assert response.status_code == 200, response.content[:500]
    outcomes = [r["outcome"] for r in response.json()["results"]]
    assert outcomes == ["created" if good else "invalid" for good, _ in batch]
    good_ids = {record["project_id"] for good, record in batch if good}
    assert (
        set(Project.objects.filter(external_id__in=good_ids).values_list("external_id", flat=True))
        == good_ids
    )
    assert not IdempotencyKey.objects.filter(in_progress=True).exists()
