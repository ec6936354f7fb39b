"""Back-office pages that htmx also asks for in part: one view answers both."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def render_page(request: HttpRequest, page: str, fragment: str, context: dict) -> HttpResponse:
    """The whole page, or only the fragment (the part htmx swaps in) when htmx asks."""
    return render(request, fragment if request.htmx else page, context)
