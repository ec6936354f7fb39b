"""Hostile input: NUL, lone surrogates, deep nesting, huge numbers and junk anywhere a
client can put them answer 4xx naming the field (or a per-record error in a batch),
never 5xx; a batch keeps its good records; an Idempotency-Key is never left stuck."""

import datetime
import json

import pytest

from oms.models import IdempotencyKey, JobRun
from orders.choices import OrderStatus
from orders.models import DesignEvent, Order, OrderNote, Project
from tests import factories
from tests.apiclient import problem

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]
# Design events are processed when the request commits, so those tests commit.
committing = pytest.mark.django_db(transaction=True)

NUL, SURROGATE = "\u0000", "\ud800"
EVENTS, PROJECTS = "/api/v1/design-events/", "/api/v1/projects/"


def raw_post(caller, url, body: str, headers=None):
    """POST a JSON text as is (json.dumps escapes NUL and surrogates as \\uXXXX)."""
    return caller.post(url, body, headers=headers)


def error_fields(response) -> list[str]:
    return [e["field"] for e in problem(response).get("errors", [])]


@pytest.fixture
def project():
    factories.ItemFactory(code="RRU-A")
    return factories.ProjectFactory(construction_start_on=datetime.date(2026, 5, 1))


def event(project, event_id, **extra):
    return {
        "event_id": event_id,
        "type": "design_approved",
        "project_id": project.external_id,
        "order_type": "radio",
        "occurred_at": "2026-11-01T09:00:00Z",
        "need_by": "2026-12-15",
        "items": [{"item": "RRU-A", "quantity": 2}],
        **extra,
    }


def planning_project(project_id, **values) -> dict:
    return {
        "project_id": project_id,
        "site_code": "NYC0001",
        "market": "NYC",
        "plan_type": "new_build",
        **values,
    }


@pytest.fixture
def market():
    return factories.MarketFactory(code="NYC", region=factories.RegionFactory(code="EAST"))


# --- Bodies -------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [NUL, SURROGATE])
def test_a_note_holding_nul_or_a_lone_surrogate_is_400_naming_the_field(api, bad):
    order = factories.make_order()
    response = api.post(f"/api/v1/orders/{order.number}/notes/", {"text": f"a{bad}b"})
    assert response.status_code == 400
    assert error_fields(response) == ["text"]
    assert not OrderNote.objects.exists()


def test_the_path_of_a_bad_string_deep_in_a_body_is_named(api):
    order = factories.make_order()
    body = {"update": [], "add": [{"item": "OK"}, {"item": "x" + NUL}], "remove": []}
    response = api.patch(f"/api/v1/orders/{order.number}/", body, headers={"If-Match": '"1"'})
    assert response.status_code == 400
    assert error_fields(response) == ["add[1].item"]


def test_a_bad_key_is_named_too(api):
    order = factories.make_order()
    response = api.post(f"/api/v1/orders/{order.number}/notes/", {"te\u0000xt": "hello"})
    assert response.status_code == 400
    assert error_fields(response) == ["te\ufffdxt"]
    assert "is a field name that must not contain" in problem(response)["errors"][0]["message"]


@pytest.mark.parametrize(
    "url", ["/api/v1/orders/MO-1/notes/", EVENTS, PROJECTS, "/api/v1/orders/MO-1/approve/"]
)
def test_a_body_nested_1000_deep_is_400_before_parsing(api, url):
    body = "[" * 1000 + "]" * 1000
    response = raw_post(api, url, body)
    assert response.status_code == 400
    assert problem(response)["code"] == "too_deep"


def test_nesting_within_the_limit_is_parsed_and_brackets_in_strings_do_not_count(api):
    order = factories.make_order()
    text = "[" * 100
    response = api.post(f"/api/v1/orders/{order.number}/notes/", {"text": text})
    assert response.status_code == 201
    assert OrderNote.objects.get().text == text


@pytest.mark.parametrize("number", ["1e400", "-1e400", "NaN", "Infinity", "9" * 5000])
def test_numbers_out_of_any_range_are_400_naming_the_field(api, number):
    order = factories.make_order()
    body = '{"text": "ok", "extra": [1, {"deep": ' + number + "}]}"
    response = raw_post(api, f"/api/v1/orders/{order.number}/notes/", body)
    assert response.status_code == 400
    assert [(e["field"], e["code"]) for e in problem(response)["errors"]] == [
        ("extra[1].deep", "out_of_range")
    ]
    assert not OrderNote.objects.exists()


@committing
@pytest.mark.parametrize("number", ["1e400", "NaN", "9" * 5000])
def test_an_event_with_a_number_out_of_range_is_refused_by_itself(api, project, number):
    good = json.dumps(event(project, "e-good"))
    bad = '{"event_id": "e-bad", "type": "design_approved", "national_priority": ' + number + "}"
    response = raw_post(api, EVENTS, f"[{bad}, {good}]")
    assert response.status_code == 202
    refused, kept = response.json()["results"]
    assert (refused["event_id"], refused["status"]) == ("e-bad", "rejected")
    assert refused["problems"][0]["field"] == "national_priority"
    assert refused["problems"][0]["code"] == "out_of_range"
    assert kept["outcome"] == "created"
    assert list(DesignEvent.objects.values_list("event_id", flat=True)) == ["e-good"]


def test_a_project_with_a_number_out_of_range_is_reported_by_itself(api, market):
    good = json.dumps(planning_project("PRJ-1"))
    bad = json.dumps(planning_project("PRJ-2"))[:-1] + ', "latitude": 1e400, "longitude": 1}'
    response = raw_post(api, PROJECTS, f"[{bad}, {good}]")
    assert response.status_code == 200
    refused, kept = response.json()["results"]
    assert refused["problems"][0] == {
        "code": "out_of_range",
        "field": "latitude",
        "message": "latitude is out of range.",
    }
    assert kept["outcome"] == "created"


@pytest.mark.parametrize("quantity", [2**31, 2**63, -5, 0, "many", None, 1.5])
def test_line_quantities_out_of_range_are_400_naming_the_field(api, quantity):
    order = factories.make_order()
    factories.ItemFactory(code="ANY")
    body = {"update": [], "add": [{"item": "ANY", "quantity": quantity}], "remove": []}
    response = api.patch(f"/api/v1/orders/{order.number}/", body, headers={"If-Match": '"1"'})
    assert response.status_code == 400
    assert error_fields(response) == ["add[0].quantity"]


@committing
def test_a_design_event_with_huge_quantities_is_a_dead_letter_not_a_crash(api, project):
    body = [
        event(project, "e-big", items=[{"item": "RRU-A", "quantity": 2**40}]),
        event(project, "e-neg", items=[{"item": "RRU-A", "quantity": -3}]),
        event(project, "e-prio", national_priority=2**40),
    ]
    response = api.post(EVENTS, body)
    assert response.status_code == 202
    results = response.json()["results"]
    assert [r["outcome"] for r in results] == ["invalid", "invalid", "invalid"]
    assert not Order.objects.exists()


# --- Batches keep their good records -------------------------------------------------------


@committing
@pytest.mark.parametrize("bad", [NUL, SURROGATE])
def test_a_bad_design_event_is_refused_by_itself_and_its_neighbours_are_kept(api, project, bad):
    body = [
        event(project, "e-1"),
        event(project, "e-2", items=[{"item": "RRU-A", "quantity": 1, "note": f"x{bad}"}]),
        event(project, f"e-3{bad}"),
        event(project, "e-4", order_type="power"),
    ]
    first = api.post(EVENTS, body)
    assert first.status_code == 202
    results = first.json()["results"]
    assert [r["status"] for r in results] == ["processed", "rejected", "rejected", "processed"]
    assert results[1]["event_id"] == "e-2"
    assert results[1]["problems"][0]["field"] == "items[0].note"
    assert results[2]["problems"][0]["field"] == "event_id"
    assert set(DesignEvent.objects.values_list("event_id", flat=True)) == {"e-1", "e-4"}

    again = api.post(EVENTS, body)
    assert again.status_code == 202
    outcomes = [r["outcome"] for r in again.json()["results"]]
    assert outcomes == ["duplicate", "invalid", "invalid", "duplicate"]
    assert DesignEvent.objects.count() == 2
    assert Order.objects.count() == 2


@committing
def test_a_single_bad_design_event_is_422_naming_the_field(api, project):
    response = api.post(EVENTS, event(project, "e-1", need_by=SURROGATE))
    assert response.status_code == 422
    assert [p["field"] for p in problem(response)["errors"]] == ["need_by"]


@pytest.mark.parametrize("bad", [NUL, SURROGATE])
def test_a_bad_project_in_a_list_is_reported_and_the_good_ones_saved(api, market, bad):
    body = [
        planning_project("PRJ-1"),
        planning_project(f"PRJ-{bad}2"),
        planning_project("PRJ-3", site_code=f"S{bad}"),
        planning_project("PRJ-4", name=f"Roof{bad}"),
        planning_project("PRJ-5"),
    ]
    response = api.post(PROJECTS, body, headers={"Idempotency-Key": "batch-1"})
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [r["outcome"] for r in results] == [
        "created",
        "invalid",
        "invalid",
        "invalid",
        "created",
    ]
    assert [r["problems"][0]["field"] for r in results[1:4]] == ["project_id", "site_code", "name"]
    assert results[1]["project_id"] == "PRJ-\ufffd2"
    assert set(Project.objects.values_list("external_id", flat=True)) == {"PRJ-1", "PRJ-5"}

    # The key is not stuck: the retry replays the answer; a new key runs again.
    replay = api.post(PROJECTS, body, headers={"Idempotency-Key": "batch-1"})
    assert replay.status_code == 200
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.json() == response.json()
    assert not IdempotencyKey.objects.filter(in_progress=True).exists()
    again = api.post(PROJECTS, body, headers={"Idempotency-Key": "batch-2"})
    assert [r["outcome"] for r in again.json()["results"]] == [
        "unchanged",
        "invalid",
        "invalid",
        "invalid",
        "unchanged",
    ]


def test_a_single_bad_project_is_400_naming_the_field(api, market):
    response = api.post(PROJECTS, planning_project("PRJ-1", market=f"NY{SURROGATE}"))
    assert response.status_code == 400
    assert [p["field"] for p in problem(response)["errors"]] == ["market"]
    assert not Project.objects.exists()


# --- Query strings --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/jobs/?name=%00",
        "/webhooks/deliveries/?type=%00",
        "/orders/?q=%ED%A0%80",
        "/webhooks/deliveries/?subscription=%FF",
    ],
)
def test_a_bad_query_parameter_in_the_back_office_is_400_naming_it(admin_client, url):
    response = admin_client.get(url)
    assert response.status_code == 400
    name = url.split("?")[1].split("=")[0]
    assert repr(name) in response.content.decode()


@pytest.mark.parametrize("query", ["status=%00", "project=a%00b", "%00=1"])
def test_a_bad_query_parameter_in_the_api_is_400_problem_naming_it(api, query):
    response = api.get(f"/api/v1/orders/?{query}")
    assert response.status_code == 400
    assert problem(response)["code"] == "invalid_text"
    assert error_fields(response) == [query.split("=")[0].replace("%00", "\ufffd")]


def test_a_clean_query_still_works(admin_client):
    JobRun.objects.create(name="import")
    assert admin_client.get("/jobs/?name=import").status_code == 200


# --- Idempotency keys are never stuck -------------------------------------------------------


def _add_note(api, order, key, text="hello"):
    url = f"/api/v1/orders/{order.number}/notes/"
    return api.post(url, {"text": text}, headers={"Idempotency-Key": key})


def test_a_first_request_that_crashes_frees_its_key(api, monkeypatch):
    from orders import services

    order = factories.make_order()
    real = services.order_add_note

    def crash_once(**kwargs):
        monkeypatch.setattr(services, "order_add_note", real)
        raise RuntimeError("the database went away")

    monkeypatch.setattr(services, "order_add_note", crash_once)
    assert _add_note(api, order, "k-crash").status_code == 500
    assert not IdempotencyKey.objects.exists()

    retry = _add_note(api, order, "k-crash")
    assert retry.status_code == 201
    assert "Idempotent-Replayed" not in retry
    assert OrderNote.objects.count() == 1


@pytest.mark.parametrize("bad", [NUL, SURROGATE])
def test_an_answer_that_cannot_be_stored_or_rendered_frees_its_key(api, monkeypatch, bad):
    # Given an answer echoing text that jsonb cannot hold (NUL) or UTF-8 cannot
    # encode (a lone surrogate)
    from orders.api import serializers

    real = serializers.OrderNoteSerializer.to_representation

    def echo(self, instance):
        return {**real(self, instance), "echo": bad}

    monkeypatch.setattr(serializers.OrderNoteSerializer, "to_representation", echo)
    order = factories.make_order()

    # When the first request ends, its key is free either way
    first = _add_note(api, order, "k-echo")
    assert first.status_code in {201, 500}
    assert not IdempotencyKey.objects.filter(in_progress=True).exists()
    monkeypatch.setattr(serializers.OrderNoteSerializer, "to_representation", real)
    retry = _add_note(api, order, "k-echo")
    assert retry.status_code == 201
    assert "Idempotent-Replayed" not in retry


def test_a_refused_body_keeps_its_answer_for_the_retry(api):
    order = factories.make_order()
    first = _add_note(api, order, "k-bad", text="a\u0000b")
    again = _add_note(api, order, "k-bad", text="a\u0000b")
    assert first.status_code == again.status_code == 400
    assert again["Idempotent-Replayed"] == "true"
    assert problem(again) == problem(first)
    assert not IdempotencyKey.objects.filter(in_progress=True).exists()


@pytest.mark.parametrize("path", ["/api/v1/design-events/a%00b/", "/api/v1/projects/P%00/"])
def test_a_bad_path_parameter_is_400(api, path):
    response = api.get(path)
    assert response.status_code == 400
    assert problem(response)["code"] == "invalid_text"


# --- The back office ------------------------------------------------------------------------


@pytest.fixture
def coordinator_client(client):
    # Bulk actions, line edits and corrections need a coordinator with every right.
    client.force_login(factories.UserFactory(role="coordinator", is_superuser=True))
    return client


@pytest.mark.parametrize("junk", ["MO-1/x", "MO\u00001", "../../admin", "x" * 300, ""])
def test_a_bulk_reject_rejects_the_valid_orders_and_reports_each_bad_one(coordinator_client, junk):
    orders = [factories.order_in(OrderStatus.APPROVED) for _ in range(2)]
    numbers = [orders[0].number, junk, orders[1].number]
    data = {"action": "reject", "orders": numbers, "reason_code": "other", "reason_text": "No."}
    response = coordinator_client.post("/orders/bulk/", data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "this is not an order number" in page and "2 of 3 rejected" in page
    for order in orders:
        order.refresh_from_db()
        assert order.status == OrderStatus.DRAFT
        assert f'href="/orders/{order.number}/"' in page


def test_a_note_with_nul_in_the_back_office_is_a_form_error(coordinator_client):
    order = factories.make_order()
    response = coordinator_client.post(f"/orders/{order.number}/notes/", {"text": "a\u0000b"})
    assert response.status_code in {200, 400}
    assert "Null characters are not allowed" in response.content.decode()
    assert not OrderNote.objects.exists()


def test_a_line_quantity_beyond_any_column_is_a_form_error(coordinator_client):
    order = factories.make_order()
    line = order.lines.first()
    data = {"version": order.version, f"qty_{line.pk}": str(2**40)}
    response = coordinator_client.post(f"/orders/{order.number}/lines/", data)
    assert response.status_code in {200, 400}
    assert "less than or equal to 1000000" in response.content.decode()
    line.refresh_from_db()
    assert line.quantity != 2**40


def test_a_login_with_nul_is_refused_not_a_crash(client):
    response = client.post("/login/", {"username": "a\u0000b", "password": "x\u0000"})
    assert response.status_code in {200, 400}
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"event_id": "e-bad", "items": [{"item": "A\\u0000"}]}', "items[0].item must not"),
        ('{"event_id": "e-bad", "note": "\\ud800"}', "note must be valid Unicode"),
        ("[" * 1000 + "]" * 1000, "nest deeper than"),
        ('{"event_id": "e-bad", "quantity": 1e400}', "quantity is a number out of range"),
    ],
)
def test_a_dead_letter_correction_with_hostile_json_is_a_form_error(
    coordinator_client, acting_system, text, message
):
    event = DesignEvent.objects.create(
        event_id="e-bad", payload={"event_id": "e-bad"}, status=DesignEvent.Status.INVALID
    )
    response = coordinator_client.post(
        f"/orders/design-events/{event.event_id}/", {"payload": text}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    event.refresh_from_db()
    assert event.corrected_payload is None


def test_retrying_deliveries_with_junk_ids_and_a_bad_next_is_not_a_crash(admin_client):
    data = {"deliveries": ["²", "9" * 40, "-1"], "next": "/jobs/\u0000"}
    response = admin_client.post("/webhooks/deliveries/retry/", data)
    assert response.status_code == 302
    assert response["Location"] == "/webhooks/deliveries/"


def test_a_correlation_id_with_nul_is_replaced_not_stored(api):
    order = factories.make_order()
    response = api.post(
        f"/api/v1/orders/{order.number}/notes/",
        {"text": "hello"},
        headers={"X-Correlation-ID": "abc\u0000"},
    )
    assert response.status_code == 201
    assert "\u0000" not in response["X-Correlation-ID"]


def test_an_item_of_a_project_list_that_is_not_an_object_is_reported_by_itself(api, market):
    body = [planning_project("PRJ-1"), "PRJ-\u0000", [1, 2], None, planning_project("PRJ-2")]
    response = api.post(PROJECTS, body)
    assert response.status_code == 200
    outcomes = [r["outcome"] for r in response.json()["results"]]
    assert outcomes == ["created", "invalid", "invalid", "invalid", "created"]
    assert Project.objects.count() == 2


def test_an_event_file_with_hostile_lines_keeps_its_good_events(project, tmp_path):
    from django.core.management import call_command

    good = json.dumps(event(project, "e-file-1"))
    lines = [
        good,
        "[" * 100_000 + "]" * 100_000,
        '{"event_id": "e-file-2", "need_by": "\\u0000"}',
        '{"event_id": "e-file-3", "n": ' + "9" * 5000 + "}",
        '{"event_id": "e-file-4", "n": 1e400}',
    ]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines))
    with open(tmp_path / "out.txt", "w") as out:
        call_command("ingest_events", str(path), "--no-progress", stdout=out)
    assert list(DesignEvent.objects.values_list("event_id", flat=True)) == ["e-file-1"]
    report = (tmp_path / "out.txt").read_text()
    assert "line 2:" in report and "line 3: need_by must not" in report


@pytest.mark.parametrize(
    ("text", "too_deep"),
    [
        ("[" * 32 + "]" * 32, False),
        ("[" * 33 + "]" * 33, True),
        ('{"a": "' + "[" * 40 + '"}', False),
        ('{"a": "\\"' + "{" * 40 + '"}', False),
        ('["\\\\", ' + "[" * 33 + "]" * 33 + "]", True),
    ],
)
def test_depth_is_read_from_the_bytes_with_brackets_in_strings_not_counted(text, too_deep):
    from oms import untrusted

    assert untrusted.json_too_deep(text.encode(), 32) is too_deep


@pytest.mark.parametrize(
    ("form_name", "data"),
    [
        ("StockChangeForm", {"kind": "receipt", "quantity": str(2**40), "reason": "count"}),
        ("StockChangeForm", {"kind": "adjustment", "quantity": str(-(2**40)), "reason": "c"}),
        ("MinimumForm", {"minimum_level": str(2**31), "reason": "more"}),
    ],
)
def test_admin_stock_quantities_beyond_the_columns_are_form_errors(form_name, data):
    from warehouse import admin

    form = getattr(admin, form_name)(data)
    assert not form.is_valid()
    assert set(form.errors) == {"quantity" if "quantity" in data else "minimum_level"}
