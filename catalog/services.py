"""Kit versions: drafted, filled, then published. A published version is live and never
changes; a later version takes over from its effective date."""

import datetime
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from catalog.models import Item, Kit, KitComponent, KitVersion, KitVersionLive
from oms import audit
from oms.actors import Actor
from oms.errors import Problem, ValidationFailed


def kit_version_draft(
    *, kit: Kit, effective_from: datetime.date, actor: Actor, notes: str = ""
) -> KitVersion:
    """Start a new version of a kit, copying the components of its latest version."""
    actor.require("catalog.add_kitversion", "draft kit versions")
    with transaction.atomic(), audit.acting(actor, reason="new kit version drafted"):
        kit = Kit.objects.select_for_update().get(pk=kit.pk)
        latest = kit.versions.order_by("-number").first()
        version = KitVersion.objects.create(
            kit=kit,
            number=(latest.number + 1) if latest else 1,
            effective_from=effective_from,
            notes=notes,
        )
        if latest:
            for component in latest.components.all():
                KitComponent.objects.create(
                    kit_version=version, item_id=component.item_id, quantity=component.quantity
                )
        return version


def kit_version_set_components(
    *, version: KitVersion, components: Sequence[tuple[Item, int]], actor: Actor
) -> KitVersion:
    """Replace the components of a draft version."""
    actor.require("catalog.change_kitversion", "change kit versions")
    problems = [
        Problem(code="invalid_quantity", field=item.code, message=f"{item.code}: quantity > 0.")
        for item, quantity in components
        if quantity <= 0
    ]
    codes = [item.code for item, _ in components]
    problems += [
        Problem(code="duplicate_item", field=code, message=f"{code} is listed twice.")
        for code in sorted({c for c in codes if codes.count(c) > 1})
    ]
    if problems:
        raise ValidationFailed("The components were not saved.", problems=problems)
    with transaction.atomic(), audit.acting(actor, reason="kit components changed"):
        version = KitVersion.objects.select_for_update().get(pk=version.pk)
        if version.is_live:
            raise KitVersionLive(f"{version} is live; draft a new version to change it.")
        for component in version.components.all():
            component.delete()
        for item, quantity in components:
            KitComponent.objects.create(kit_version=version, item=item, quantity=quantity)
        return version


def kit_version_publish(*, version: KitVersion, actor: Actor) -> KitVersion:
    """Make a draft version live. The version live before it ends where this one starts."""
    actor.require("catalog.change_kitversion", "publish kit versions")
    with transaction.atomic(), audit.acting(actor, reason="kit version published"):
        Kit.objects.select_for_update().get(pk=version.kit_id)
        version = KitVersion.objects.select_related("kit").get(pk=version.pk)
        if version.is_live:
            raise KitVersionLive(f"{version} is already live.")
        components = list(version.components.select_related("item"))
        problems = []
        if not components:
            problems.append(Problem(code="no_components", message="A kit has components."))
        problems += [
            Problem(
                code="item_inactive",
                field=c.item.code,
                message=f"{c.item.code} is {c.item.get_lifecycle_display().lower()}.",
            )
            for c in components
            if not c.item.is_active
        ]
        previous = (
            KitVersion.objects.filter(kit_id=version.kit_id, published_at__isnull=False)
            .order_by("-effective_from")
            .first()
        )
        if previous and previous.effective_from >= version.effective_from:
            problems.append(
                Problem(
                    code="effective_from",
                    field="effective_from",
                    message=f"Must start after {previous} (from {previous.effective_from}).",
                )
            )
        if problems:
            raise ValidationFailed(f"{version} cannot be published.", problems=problems)
        if previous and (
            previous.effective_to is None or previous.effective_to > version.effective_from
        ):
            previous.effective_to = version.effective_from
            previous.save()
        version.published_at = timezone.now()
        version.save()
        return version
