"""Work is asked for by task name (oms.broker.send): each name a module asks for is a
task the worker has, and the lookup loads the tasks modules when nothing has yet."""

import pytest

from allocation import triggers
from allocation.services import runs
from oms import broker, relay, webhooks
from orders import project_upload
from orders.ingestion import receiving
from warehouse.integration import dispatch

ASKED_FOR = [
    relay.RELAY_TASK,
    triggers.TASK,
    runs.EXECUTE_TASK,
    project_upload.IMPORT_TASK,
    receiving.PROCESS_TASK,
    dispatch.SEND_TASK,
    dispatch.ASK_TASK,
    webhooks.DELIVER_TASK,
]


@pytest.mark.parametrize("name", ASKED_FOR)
def test_each_task_asked_for_by_name_is_registered(name):
    assert broker.task(name).name == name


def test_an_unknown_task_name_is_an_error_not_a_silent_drop():
    with pytest.raises(KeyError):
        broker.send("orders.tasks.no_such_task")
