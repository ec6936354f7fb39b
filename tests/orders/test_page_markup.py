"""The markup of every back-office screen: a skip link, labelled controls, headings in
order, table headers with a scope, references that resolve, errors tied to their
fields. (Keyboard use and the layout in a real browser: tests/browser.)"""

from dataclasses import dataclass, field
from html.parser import HTMLParser
from itertools import pairwise

import pytest
from django.test import Client
from django.urls import reverse

from oms.models import JobRun
from orders import ingestion
from orders.choices import OrderStatus
from orders.models import SavedView
from tests import factories

pytestmark = pytest.mark.django_db

CONTROLS = {"input", "select", "textarea"}
NOT_LABELLED = {"hidden", "submit", "button", "reset"}


@dataclass
class Page(HTMLParser):
    """What these tests read from a page."""

    ids: set = field(default_factory=set)
    label_for: set = field(default_factory=set)
    controls: list = field(default_factory=list)
    headings: list = field(default_factory=list)
    header_cells: list = field(default_factory=list)
    references: list = field(default_factory=list)
    links: list = field(default_factory=list)

    def __post_init__(self):
        super().__init__()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "label" and attrs.get("for"):
            self.label_for.add(attrs["for"])
        if tag in CONTROLS and attrs.get("type") not in NOT_LABELLED:
            self.controls.append(attrs)
        if tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            self.headings.append(int(tag[1]))
        if tag == "th":
            self.header_cells.append(attrs)
        if tag == "a":
            self.links.append(attrs)
        for name in ("aria-describedby", "aria-labelledby"):
            self.references += [(name, ref) for ref in (attrs.get(name) or "").split()]


def parse(response) -> Page:
    assert response.status_code in {200, 400}, response.status_code
    page = Page()
    page.feed(response.content.decode())
    return page


@pytest.fixture
def screens(coordinator):
    """Every back-office screen, with data on it, as (name, client, url)."""
    order = factories.make_order()
    factories.order_in(OrderStatus.APPROVED)
    factories.ItemFactory(code="RRU-A")
    project = factories.ProjectFactory(construction_start_on="2026-05-01")
    dead = {
        "event_id": "evt-markup",
        "type": "design_approved",
        "project_id": project.external_id,
        "order_type": "radio",
        "occurred_at": "2026-11-01T09:00:00Z",
        "need_by": "2026-12-15",
        "items": [{"item": "NOPE", "quantity": 1}],
    }
    ingestion.process(ingestion.receive(dead, received_from="tests").event)
    run = JobRun.objects.create(
        name="import_projects",
        status=JobRun.Status.SUCCEEDED,
        detail={
            "file": "week.csv",
            "rows": 2,
            "invalid_rows": [
                {
                    "row": 2,
                    "project_id": "P-2",
                    "outcome": "invalid",
                    "problems": [{"code": "unknown", "field": "market", "message": "Unknown."}],
                }
            ],
        },
    )
    upload = JobRun.objects.create(
        name="import_projects",
        status=JobRun.Status.SUCCEEDED,
        detail={**run.detail, "uploaded_by": coordinator.username},
    )
    signed_in = Client()
    signed_in.force_login(coordinator)
    urls = {
        "dashboard": reverse("home"),
        "queue": reverse("orders:queue") + "?view=all",
        "order": reverse("orders:detail", args=[order.number]),
        "lines": reverse("orders:lines", args=[order.number]),
        "dead letters": reverse("orders:design_events"),
        "dead letter": reverse("orders:design_event", args=["evt-markup"]),
        "job runs": reverse("jobs"),
        "job run": reverse("job", args=[run.pk]),
        "import projects": reverse("orders:import_projects"),
        "import of an upload": reverse("orders:import_run", args=[upload.pk]),
        "saved views": reverse("orders:saved_views"),
        "queue with a default view and chips": reverse("orders:queue"),
    }
    SavedView.objects.create(
        owner=coordinator, name="Drafts", query="status=draft&priority=1", is_default=True
    )
    return [("login", Client(), reverse("login"))] + [
        (name, signed_in, url) for name, url in urls.items()
    ]


def test_every_screen_starts_with_a_link_that_skips_to_its_main_content(screens):
    for name, client, url in screens:
        page = parse(client.get(url))
        assert page.links[0].get("href") == "#main", name
        assert "main" in page.ids, name


def test_every_form_control_on_every_screen_has_a_label(screens):
    for name, client, url in screens:
        page = parse(client.get(url))
        for control in page.controls:
            labelled = (
                control.get("id") in page.label_for
                or control.get("aria-label")
                or control.get("aria-labelledby")
            )
            assert labelled, f"{name}: {control}"


def test_every_table_header_cell_on_every_screen_has_a_scope(screens):
    for name, client, url in screens:
        for cell in parse(client.get(url)).header_cells:
            assert cell.get("scope") in {"col", "row"}, f"{name}: {cell}"


def test_headings_on_every_screen_start_at_one_and_go_down_one_level_at_a_time(screens):
    for name, client, url in screens:
        levels = parse(client.get(url)).headings
        assert levels[0] == 1 and levels.count(1) == 1, f"{name}: {levels}"
        for before, after in pairwise(levels):
            assert after <= before + 1, f"{name}: {levels}"


def test_every_aria_reference_on_every_screen_names_an_element_of_it(screens):
    for name, client, url in screens:
        page = parse(client.get(url))
        for attribute, ref in page.references:
            assert ref in page.ids, f"{name}: {attribute}={ref}"


# --- Errors next to their field ----------------------------------------------------------


def described_by(page: Page, control_id: str) -> list[str]:
    control = next(c for c in page.controls if c.get("id") == control_id)
    return (control.get("aria-describedby") or "").split()


def test_a_reason_sent_without_its_fields_is_refused_with_the_errors_next_to_them(
    client, coordinator
):
    client.force_login(coordinator)
    order = factories.order_in(OrderStatus.APPROVED)
    response = client.post(
        reverse("orders:transition", args=[order.number, "reject"]), {"version": order.version}
    )
    assert response.status_code == 400
    page = parse(response)
    for control in ("id_reject_reason_code", "id_reject_reason_text"):
        assert described_by(page, control) == [f"{control}_error"]
        assert f"{control}_error" in page.ids
    assert '<details class="reason" open>' in response.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.APPROVED


def test_line_errors_are_tied_to_their_fields(client, coordinator):
    client.force_login(coordinator)
    order = factories.make_order()
    line = order.lines.get()
    response = client.post(
        reverse("orders:lines", args=[order.number]),
        {"version": order.version, f"qty_{line.pk}": 0, "add_item": "NOPE", "add_quantity": 1},
    )
    assert response.status_code == 400
    page = parse(response)
    assert described_by(page, f"id_qty_{line.pk}") == [f"id_qty_{line.pk}_error"]
    assert "id_add_item_error" in described_by(page, "id_add_item")
    assert {f"id_qty_{line.pk}_error", "id_add_item_error"} <= page.ids
    assert "There is no item NOPE." in response.content.decode()


def test_an_invalid_queue_filter_is_shown_next_to_its_field(client, coordinator):
    client.force_login(coordinator)
    response = client.get(reverse("orders:queue"), {"status": "flying", "market": "NOWHERE"})
    page = parse(response)
    # A list of checkboxes is described by its error as a group
    assert '<fieldset id="id_status" aria-describedby="id_status_error">' in response.text
    assert "id_status_error" in page.ids
    assert described_by(page, "id_market") == ["id_market_error"]
    assert "id_market_error" in page.ids


def test_a_correction_that_is_not_json_is_shown_next_to_the_payload(screens, client, coordinator):
    client.force_login(coordinator)
    response = client.post(
        reverse("orders:design_event", args=["evt-markup"]), {"payload": "{not json"}
    )
    page = parse(response)
    assert described_by(page, "id_payload") == ["id_payload_error"]
    assert "id_payload_error" in page.ids


def test_a_refused_upload_is_shown_next_to_the_file_field(client, coordinator):
    client.force_login(coordinator)
    response = client.post(reverse("orders:import_projects"), {})
    assert response.status_code == 400
    page = parse(response)
    assert "id_file_error" in described_by(page, "id_file")
    assert "id_file_error" in page.ids
