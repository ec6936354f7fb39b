import pytest
from django.test import Client

from oms.actors import Actor
from oms.clients import api_client_create
from oms.scopes import Scope

ALL_SCOPES = list(Scope.values)


class ApiCaller:
    """A test client that calls the API as one external client (JSON by default)."""

    def __init__(self, token: str, client_record):
        self.token = token
        self.record = client_record
        self.http = Client()

    def _headers(self, headers):
        return {"Authorization": f"Bearer {self.token}", **(headers or {})}

    def get(self, url, data=None, headers=None):
        return self.http.get(url, data, headers=self._headers(headers))

    def post(self, url, data=None, headers=None, content_type="application/json"):
        return self.http.post(
            url,
            data if data is not None else {},
            content_type=content_type,
            headers=self._headers(headers),
        )

    def patch(self, url, data=None, headers=None):
        return self.http.patch(
            url, data or {}, content_type="application/json", headers=self._headers(headers)
        )

    def delete(self, url, headers=None):
        return self.http.delete(url, headers=self._headers(headers))


@pytest.fixture
def make_caller(db):
    counter = iter(range(1000))

    def make(*scopes, name=None, throttle_rate=""):
        client, token = api_client_create(
            name=name or f"client-{next(counter)}",
            scopes=scopes or ALL_SCOPES,
            actor=Actor.system("tests"),
        )
        if throttle_rate:
            type(client).objects.filter(pk=client.pk).update(throttle_rate=throttle_rate)
        return ApiCaller(token, client)

    return make


@pytest.fixture
def api(make_caller):
    """A client holding every scope."""
    return make_caller()


@pytest.fixture(autouse=True)
def _fresh_throttle_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def problem(response) -> dict:
    """The problem details body, after checking it is one."""
    assert response["Content-Type"].startswith("application/problem+json"), response.content
    body = response.json()
    assert {"type", "title", "status", "detail", "code"} <= body.keys()
    assert body["status"] == response.status_code
    return body
