from django.db.models import Prefetch
from rest_framework import viewsets

from catalog.api.serializers import ItemSerializer, KitSerializer
from catalog.filters import ItemFilter
from catalog.models import Item, Kit, KitVersion
from oms.api.views import ApiMixin
from oms.scopes import Scope


class ItemViewSet(ApiMixin, viewsets.ReadOnlyModelViewSet):
    """Catalog items; a replaced item names its successor."""

    required_scope = Scope.CATALOG_READ
    serializer_class = ItemSerializer
    filterset_class = ItemFilter
    lookup_field = "code"
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        return Item.objects.select_related("replaced_by").order_by("code")


class KitViewSet(ApiMixin, viewsets.ReadOnlyModelViewSet):
    """Kits with every version (live and draft) and their components."""

    required_scope = Scope.CATALOG_READ
    serializer_class = KitSerializer
    lookup_field = "code"
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        versions = KitVersion.objects.order_by("number").prefetch_related("components__item")
        return Kit.objects.prefetch_related(Prefetch("versions", queryset=versions)).order_by(
            "code"
        )
