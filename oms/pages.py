"""Back-office pages that htmx also asks for in part: one view answers both."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """A request as views see it: HtmxMiddleware (in every request's path) adds `htmx`."""

    htmx: HtmxDetails


def render_page(request: HtmxHttpRequest, page: str, fragment: str, context: dict) -> HttpResponse:
    """The whole page, or only the fragment (the part htmx swaps in) when htmx asks."""
    return render(request, fragment if request.htmx else page, context)
