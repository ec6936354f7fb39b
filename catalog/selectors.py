import datetime

from django.db.models import Q

from catalog.models import Kit, KitVersion


def kit_version_effective(kit: Kit, on: datetime.date) -> KitVersion | None:
    """The live version of a kit in effect on a date, with its components."""
    return (
        KitVersion.objects.filter(kit=kit, published_at__isnull=False, effective_from__lte=on)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gt=on))
        .prefetch_related("components__item")
        .order_by("-effective_from")
        .first()
    )
