from django import template

from orders.event_words import problem_sentence

register = template.Library()


@register.filter
def in_words(problem: dict) -> str:
    """A recorded problem with the field it concerns, in a coordinator's words."""
    return problem_sentence(problem)
