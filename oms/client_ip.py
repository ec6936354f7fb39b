"""The client's address, the one way OMS reads it (sign-in lockout, API throttling)."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, or behind OMS_PROXY_COUNT proxies that each append the address they
    received from to X-Forwarded-For, the entry the outermost proxy appended. Entries
    further left are whatever the client sent and are never trusted."""
    remote = request.META.get("REMOTE_ADDR", "")
    count = settings.OMS_PROXY_COUNT
    if count <= 0:
        return remote
    forwarded = [
        entry.strip()
        for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if entry.strip()
    ]
    if not forwarded:
        return remote
    candidate = forwarded[-min(count, len(forwarded))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
