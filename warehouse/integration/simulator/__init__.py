"""A warehouse system stand-in (WMS) for the demo and the fault tests.

It speaks the warehouse protocol of the README: it takes release requests
(`POST /releases`, idempotent by release id: a repeat never makes a second release)
and calls OMS back with an API token (scope warehouse:write): accepted, then completed
(everything shipped by default) after configurable delays. It can be told, on the
command line or at `POST /_control`, to reject, to fail with a 5xx or time out at a
given rate, to ship short, to send returns, to send each callback twice or out of
order, or to take a release and stay silent until the request comes again (a repeat
of a request it holds has it send its answers again, with the same event ids);
`POST /_control/releases/<id>/return` sends a return now and
`POST /_control/stock` a stock receipt or adjustment. `GET /_control` shows the
behaviour and counts, `GET /releases/<id>` one release as the warehouse sees it.

It is plain Python (http.server and requests), run by
`manage.py run_warehouse_simulator`.
"""

from warehouse.integration.simulator.behaviour import Behaviour
from warehouse.integration.simulator.callbacks import CallbackSender
from warehouse.integration.simulator.server import make_server
from warehouse.integration.simulator.wms import Simulator

__all__ = ["Behaviour", "CallbackSender", "Simulator", "make_server"]
