"""Kit versions: drafts change, live versions never do; dates pick the version."""

import datetime

import pytest
from django.db import IntegrityError, transaction

from catalog.models import Kit, KitComponent, KitVersionLive
from catalog.selectors import kit_version_effective
from catalog.services import kit_version_draft, kit_version_publish, kit_version_set_components
from oms.errors import ValidationFailed
from tests.factories import SETUP, ItemFactory

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture
def kit(acting_system):
    return Kit.objects.create(code="KIT-SECTOR", name="Sector kit")


def _live(kit, start, components):
    version = kit_version_draft(kit=kit, effective_from=start, actor=SETUP)
    kit_version_set_components(version=version, components=components, actor=SETUP)
    return kit_version_publish(version=version, actor=SETUP)


def test_live_version_components_cannot_change(kit, acting_system):
    radio = ItemFactory()
    version = _live(kit, D(2026, 1, 1), [(radio, 3)])

    component = version.components.get()
    component.quantity = 4
    with pytest.raises(KitVersionLive):
        component.save()
    with pytest.raises(KitVersionLive):
        KitComponent.objects.create(kit_version=version, item=ItemFactory(), quantity=1)
    with pytest.raises(KitVersionLive):
        kit_version_set_components(version=version, components=[(radio, 9)], actor=SETUP)
    version.effective_from = D(2025, 1, 1)
    with pytest.raises(KitVersionLive):
        version.save()


def test_changing_a_kit_makes_a_new_version(kit):
    radio, antenna = ItemFactory(), ItemFactory()
    v1 = _live(kit, D(2026, 1, 1), [(radio, 3)])

    v2 = kit_version_draft(kit=kit, effective_from=D(2026, 6, 1), actor=SETUP)
    assert [(c.item_id, c.quantity) for c in v2.components.all()] == [(radio.pk, 3)]
    kit_version_set_components(version=v2, components=[(radio, 3), (antenna, 6)], actor=SETUP)
    kit_version_publish(version=v2, actor=SETUP)

    v1.refresh_from_db()
    assert v1.effective_to == D(2026, 6, 1)
    assert kit_version_effective(kit, D(2026, 5, 31)) == v1
    assert kit_version_effective(kit, D(2026, 6, 1)).number == 2
    assert kit_version_effective(kit, D(2025, 12, 31)) is None


def test_a_new_version_must_start_after_the_live_one(kit):
    _live(kit, D(2026, 3, 1), [(ItemFactory(), 1)])
    late = kit_version_draft(kit=kit, effective_from=D(2026, 2, 1), actor=SETUP)

    with pytest.raises(ValidationFailed, match="cannot be published"):
        kit_version_publish(version=late, actor=SETUP)


def test_an_empty_version_cannot_be_published(kit):
    version = kit_version_draft(kit=kit, effective_from=D(2026, 1, 1), actor=SETUP)

    with pytest.raises(ValidationFailed) as refused:
        kit_version_publish(version=version, actor=SETUP)
    assert [p.code for p in refused.value.problems] == ["no_components"]


def test_database_refuses_zero_quantity_components(kit, acting_system):
    version = kit_version_draft(kit=kit, effective_from=D(2026, 1, 1), actor=SETUP)

    with pytest.raises(IntegrityError), transaction.atomic():
        KitComponent.objects.create(kit_version=version, item=ItemFactory(), quantity=0)
