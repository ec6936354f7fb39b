"""Small charts drawn on the server as inline SVG (no script, no CDN)."""

from django import template
from django.utils.html import format_html, format_html_join

register = template.Library()


@register.simple_tag
def sparkbars(values, label="", height=24, width=150):
    """A bar per value, scaled to the largest."""
    values = list(values)
    top = max(values, default=0) or 1
    step = width / max(len(values), 1)
    bars = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}"></rect>',
        (
            (
                f"{i * step:.1f}",
                f"{height - v * height / top:.1f}",
                f"{max(step - 1, 1):.1f}",
                f"{v * height / top:.1f}",
            )
            for i, v in enumerate(values)
        ),
    )
    return format_html(
        '<svg class="spark" viewBox="0 0 {} {}" width="{}" height="{}" role="img" '
        'aria-label="{}">{}</svg>',
        width,
        height,
        width,
        height,
        label,
        bars,
    )


@register.filter
def sum_of(values) -> int:
    return sum(values)
