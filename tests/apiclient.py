"""Calling the API in tests as an external client, and reading problem details."""

from django.test import Client


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


def problem(response) -> dict:
    """The problem details body, after checking it is one."""
    assert response["Content-Type"].startswith("application/problem+json"), response.content
    body = response.json()
    assert {"type", "title", "status", "detail", "code"} <= body.keys()
    assert body["status"] == response.status_code
    return body
