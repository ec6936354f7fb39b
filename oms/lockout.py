"""The page a locked-out sign-in gets (django-axes calls locked_out): when to try again,
in the project's page style, with 429 Too Many Requests."""

from __future__ import annotations

import datetime
from typing import Any

from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.db.models import Max, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from oms.client_ip import client_ip


def lockout_ends(*, username: str, ip_address: str) -> datetime.datetime:
    """When the lockout of this user name and address ends: the last failure counted
    against either, plus the lockout period."""
    cool_off = get_cool_off()
    matching = Q(ip_address=ip_address)
    if username:
        matching |= Q(username=username)
    latest = AccessAttempt.objects.filter(matching).aggregate(last=Max("attempt_time"))["last"]
    return (latest or timezone.now()) + cool_off


def locked_out(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    username = get_client_username(request, credentials) or ""
    ends = lockout_ends(username=username, ip_address=client_ip(request))
    minutes = max(1, -(-int((ends - timezone.now()).total_seconds()) // 60))
    response = render(
        request,
        "registration/locked_out.html",
        {"ends": ends, "minutes": minutes},
        status=429,
    )
    response["Retry-After"] = str(minutes * 60)
    return response
