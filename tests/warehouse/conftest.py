import pytest

from oms.actors import Actor
from oms.clients import api_client_create
from oms.scopes import Scope
from tests.warehouse.processes import Stack


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def stack(tmp_path, request):
    """Start the processes a fault test needs; they are stopped at its end, and their
    logs shown if it failed."""
    stacks: list[Stack] = []

    def make(**env) -> Stack:
        started = Stack(tmp_path, **env)
        stacks.append(started)
        return started

    yield make
    for started in stacks:
        started.stop()
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        for started in stacks:
            print(started.logs())


@pytest.fixture
def warehouse_token(transactional_db) -> str:
    """A token for the warehouse system (scope warehouse:write)."""
    client, token = api_client_create(
        name="warehouse-system", scopes=[Scope.WAREHOUSE_WRITE], actor=Actor.system("tests")
    )
    # a busy warehouse gets a rate for its volume (the default is 1200 a minute)
    type(client).objects.filter(pk=client.pk).update(throttle_rate="100000/min")
    return token


@pytest.fixture
def warehouse_stub(settings):
    """The warehouse system at the boundary: a local HTTP server OMS_WAREHOUSE_URL
    points at, answering 202 unless told otherwise."""
    from tests.warehouse.stub_server import StubServer

    stub = StubServer()
    settings.OMS_WAREHOUSE_URL = stub.url
    settings.OMS_WAREHOUSE_CONNECT_TIMEOUT_SECONDS = 1
    settings.OMS_WAREHOUSE_TIMEOUT_SECONDS = 0.5
    yield stub
    stub.close()


@pytest.fixture
def released(db):
    """An order released to one warehouse, and its release."""
    from orders.choices import OrderStatus
    from tests.factories import ItemFactory, order_in

    order = order_in(
        OrderStatus.RELEASED,
        lines=[(ItemFactory(code="RRU-T1"), 3), (ItemFactory(code="ANT-T1"), 2)],
    )
    return order, order.releases.select_related("warehouse").get()
