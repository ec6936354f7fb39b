"""The warehouse simulator as OMS sees it: a release request taken once however often
it is sent, callbacks to OMS (retried while OMS is away), and the trouble it can be
told to make. OMS is a stub here; the fault tests run it against the real one."""

import threading
import uuid

import pytest
import requests

from tests.warehouse.processes import wait_for
from tests.warehouse.stub_server import Reply, StubServer
from warehouse.integration.simulator import Behaviour, CallbackSender, Simulator, make_server


@pytest.fixture
def oms():
    stub = StubServer(default=Reply(200, {"outcome": "ok"}))
    yield stub
    stub.close()


@pytest.fixture
def wms(oms):
    """Start a simulator calling the stub OMS; returns a function that (re)configures it."""
    started = []

    def start(**behaviour):
        sender = CallbackSender(oms.url, "token-1", workers=2)
        simulator = Simulator(
            Behaviour(**{"accept_delay": 0, "complete_delay": 0.05, **behaviour}), sender, seed=3
        )
        server = make_server("127.0.0.1", 0, simulator)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        started.append((server, sender))
        return f"http://127.0.0.1:{server.server_address[1]}", simulator

    yield start
    for server, sender in started:
        sender.stop()
        server.shutdown()
        server.server_close()


def release_body(**extra):
    return {
        "release_id": str(uuid.uuid4()),
        "order": "MO-0000042",
        "warehouse": "WH-A",
        "lines": [{"item": "RRU-01", "quantity": 3}, {"item": "ANT-01", "quantity": 2}],
        **extra,
    }


def send(url, body, **headers):
    headers = {"Idempotency-Key": body["release_id"], "X-Correlation-ID": "trace-s", **headers}
    return requests.post(f"{url}/releases", json=body, headers=headers, timeout=5)


def callbacks(oms, count):
    return {r.path.rsplit("/", 2)[-2]: r for r in oms.wait_for(count)}


def test_a_release_is_taken_once_however_often_it_is_sent(wms, oms):
    url, simulator = wms()
    body = release_body()

    first, again = send(url, body), send(url, body)

    assert (first.status_code, first.json()["status"]) == (202, "received")
    assert again.status_code == 200 and again.json()["repeat"] is True
    assert simulator.stats["releases"] == 1
    assert requests.get(f"{url}/releases/{body['release_id']}", timeout=5).json()["received"] == 2


def test_the_warehouse_calls_back_accepted_then_completed_with_everything_shipped(wms, oms):
    url, _ = wms()
    body = release_body()

    send(url, body)

    sent = callbacks(oms, 2)
    rid = body["release_id"]
    assert sent["accepted"].path == f"/api/v1/warehouse/releases/{rid}/accepted/"
    assert sent["accepted"].body == {"event_id": f"{rid}:accepted"}
    assert sent["completed"].body == {
        "event_id": f"{rid}:completed",
        "lines": [{"item": "RRU-01", "shipped": 3}, {"item": "ANT-01", "shipped": 2}],
    }
    assert sent["completed"].headers["Authorization"] == "Bearer token-1"
    assert sent["completed"].headers["X-Correlation-ID"] == "trace-s"


def test_told_to_fail_it_answers_the_failure_and_takes_nothing(wms, oms):
    url, simulator = wms(fail_rate=1.0, fail_status=502)

    response = send(url, release_body())

    assert response.status_code == 502
    assert simulator.stats["releases"] == 0


def test_told_to_time_out_it_takes_the_release_and_answers_too_late(wms, oms):
    url, simulator = wms(timeout_rate=1.0, timeout_seconds=2)

    with pytest.raises(requests.Timeout):
        requests.post(f"{url}/releases", json=release_body(), timeout=0.5)

    assert simulator.stats["releases"] == 1


def test_told_to_reject_it_calls_back_rejected_with_a_reason(wms, oms):
    url, _ = wms(reject_rate=1.0)

    send(url, release_body())

    (rejected,) = oms.wait_for(1)
    assert rejected.path.endswith("/rejected/")
    assert "RRU-01" in rejected.body["reason"]


def test_told_to_ship_short_it_ships_one_less_of_the_first_line(wms, oms):
    url, _ = wms(short_rate=1.0)

    send(url, release_body())

    assert callbacks(oms, 2)["completed"].body["lines"][0] == {"item": "RRU-01", "shipped": 2}


def test_told_to_send_out_of_order_and_twice_it_does(wms, oms):
    url, _ = wms(out_of_order=True, duplicate_rate=1.0, complete_delay=0)

    send(url, release_body())

    kinds = [r.path.rsplit("/", 2)[-2] for r in oms.wait_for(4)]
    assert kinds == ["completed", "completed", "accepted", "accepted"]


def test_it_sends_a_return_when_told(wms, oms):
    url, _ = wms()
    body = release_body()
    send(url, body)
    wait_for(
        lambda: (
            requests.get(f"{url}/releases/{body['release_id']}", timeout=5).json()["status"]
            == "completed"
        ),
        timeout=10,
        what="the release completed",
    )

    response = requests.post(f"{url}/_control/releases/{body['release_id']}/return", timeout=5)

    assert response.status_code == 202
    returned = oms.wait_for(3)[-1]
    assert returned.path.endswith("/returns/")
    assert returned.body["event_id"] == f"{body['release_id']}:return:1"
    assert returned.body["lines"] == [
        {"item": "RRU-01", "quantity": 1, "condition": "good", "reason": "Not needed"}
    ]


def test_callbacks_are_sent_again_while_oms_is_away(wms, oms):
    oms.answer(Reply(503), Reply(503))
    url, _ = wms(complete_delay=5)

    send(url, release_body())

    accepted = [r for r in oms.wait_for(3, timeout=15) if r.path.endswith("/accepted/")]
    assert len(accepted) == 3
    assert len({r.body["event_id"] for r in accepted}) == 1  # the same event each time


def test_asked_again_it_sends_the_answers_it_gave_again_with_their_event_ids(wms, oms):
    url, simulator = wms()
    body = release_body()
    send(url, body)
    first = callbacks(oms, 2)

    again = send(url, body)

    assert again.status_code == 200 and again.json()["repeat"] is True
    repeated = oms.wait_for(4)[2:]
    assert sorted(r.body["event_id"] for r in repeated) == sorted(
        r.body["event_id"] for r in first.values()
    )
    assert simulator.stats["answers_sent_again"] == 2
    assert simulator.stats["releases"] == 1


def test_told_to_stay_silent_it_takes_the_release_and_answers_only_when_asked_again(wms, oms):
    url, simulator = wms(silent_rate=1.0)
    body = release_body()

    assert send(url, body).status_code == 202
    with pytest.raises(AssertionError):
        oms.wait_for(1, timeout=0.5)
    seen = requests.get(f"{url}/releases/{body['release_id']}", timeout=5).json()
    assert (seen["status"], seen["silent"]) == ("received", True)

    send(url, body)

    assert set(callbacks(oms, 2)) == {"accepted", "completed"}
    assert (simulator.stats["silent"], simulator.stats["silent_asked"]) == (1, 1)


@pytest.mark.parametrize(
    "change", [{"fail_rate": 2}, {"nonsense": 1}, {"out_of_order": "yes"}, {"fail_status": 404}]
)
def test_the_control_endpoint_refuses_bad_settings(wms, change):
    url, simulator = wms()

    response = requests.post(f"{url}/_control", json=change, timeout=5)

    assert response.status_code == 400
    assert simulator.behaviour == Behaviour(accept_delay=0, complete_delay=0.05)


def test_the_control_endpoint_changes_the_behaviour_and_shows_the_counts(wms):
    url, _ = wms()

    changed = requests.post(f"{url}/_control", json={"fail_rate": 0.5}, timeout=5)
    status = requests.get(f"{url}/_control", timeout=5).json()

    assert changed.json()["behaviour"]["fail_rate"] == 0.5
    assert status["behaviour"]["fail_rate"] == 0.5
    assert set(status) == {"behaviour", "stats", "releases", "callbacks_pending"}


@pytest.mark.parametrize(
    "body, headers",
    [
        ({"release_id": "nope", "lines": [{"item": "A", "quantity": 1}]}, {}),
        (release_body(lines=[]), {}),
        (release_body(lines=[{"item": "A", "quantity": 0}]), {}),
        (release_body(), {"Idempotency-Key": "another"}),
    ],
)
def test_a_malformed_release_request_is_400(wms, body, headers):
    url, simulator = wms()

    response = requests.post(f"{url}/releases", json=body, headers=headers, timeout=5)

    assert response.status_code == 400
    assert simulator.stats["releases"] == 0
