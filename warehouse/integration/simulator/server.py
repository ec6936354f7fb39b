"""The simulator's HTTP side: the warehouse API OMS calls, and the control endpoints."""

from __future__ import annotations

import json
import logging
import re
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from warehouse.integration.simulator.wms import BadRequest, Simulator

logger = logging.getLogger("oms.simulator")

RELEASE = re.compile(r"^/releases/([0-9a-fA-F-]{36})/?$")
CONTROL_RETURN = re.compile(r"^/_control/releases/([0-9a-fA-F-]{36})/return/?$")
MAX_BODY = 1024 * 1024


class Handler(BaseHTTPRequestHandler):
    server_version = "OMS-WMS-simulator/1.0"
    protocol_version = "HTTP/1.1"

    @property
    def simulator(self) -> Simulator:
        return self.server.simulator

    def log_message(self, format, *args):  # http.server's access log, quieter
        logger.debug("%s %s", self.address_string(), format % args)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path in ("/health", "/health/"):
            return self._send(200, {"status": "ok"})
        if path in ("/_control", "/_control/"):
            return self._send(200, self.simulator.status())
        match = RELEASE.match(path)
        if match:
            release = self.simulator.release(match.group(1).lower())
            if release is None:
                return self._send(404, {"detail": "No such release."})
            return self._send(200, release)
        return self._send(404, {"detail": "Not found."})

    def do_POST(self):
        path = self.path.split("?", 1)[0]
        try:
            body = self._body()
            if path in ("/releases", "/releases/"):
                return self._release(body)
            if path in ("/_control", "/_control/"):
                behaviour = self.simulator.configure(body)
                return self._send(200, {"behaviour": behaviour.as_dict()})
            if path in ("/_control/stock", "/_control/stock/"):
                return self._send(202, {"event_id": self.simulator.send_stock(body)})
            match = CONTROL_RETURN.match(path)
            if match:
                event_id = self.simulator.send_return(match.group(1).lower(), body)
                return self._send(202, {"event_id": event_id})
        except BadRequest as exc:
            return self._send(400, {"detail": str(exc)})
        except ValueError as exc:
            return self._send(400, {"detail": str(exc)})
        except KeyError:
            return self._send(404, {"detail": "No such release."})
        return self._send(404, {"detail": "Not found."})

    def _release(self, body):
        correlation_id = self.headers.get("X-Correlation-ID", "")
        status, answer, wait = self.simulator.receive_release(
            body, self.headers.get("Idempotency-Key"), correlation_id
        )
        if wait:
            time.sleep(wait)
        self._send(status, answer, {"X-Correlation-ID": correlation_id} if correlation_id else {})

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise BadRequest("The body is too large.")
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return {}
        try:
            return json.loads(raw)
        except ValueError:
            raise BadRequest("The body is not JSON.") from None

    def _send(self, status: int, body: dict, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        try:
            self.send_response(status, HTTPStatus(status).phrase)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            logger.info("the caller left before the answer (%s)", status)


class SimulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, simulator: Simulator):
        super().__init__(address, Handler)
        self.simulator = simulator


def make_server(host: str, port: int, simulator: Simulator) -> SimulatorServer:
    return SimulatorServer((host, port), simulator)
