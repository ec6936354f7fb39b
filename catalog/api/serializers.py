from rest_framework import serializers

from catalog.models import Item, Kit, KitComponent, KitVersion


class ItemSerializer(serializers.ModelSerializer):
    replaced_by = serializers.CharField(source="replaced_by.code", allow_null=True, default=None)

    class Meta:
        model = Item
        fields = ["code", "description", "unit", "category", "lifecycle", "replaced_by"]


class KitComponentSerializer(serializers.ModelSerializer):
    item = serializers.CharField(source="item.code")

    class Meta:
        model = KitComponent
        fields = ["item", "quantity"]


class KitVersionSerializer(serializers.ModelSerializer):
    components = KitComponentSerializer(many=True)
    live = serializers.BooleanField(source="is_live")

    class Meta:
        model = KitVersion
        fields = ["number", "effective_from", "effective_to", "live", "published_at", "components"]


class KitSerializer(serializers.ModelSerializer):
    versions = KitVersionSerializer(many=True)

    class Meta:
        model = Kit
        fields = ["code", "name", "description", "versions"]
