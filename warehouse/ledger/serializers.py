from rest_framework import serializers

from warehouse.ledger.models import StockLevel


class StockLevelSerializer(serializers.ModelSerializer):
    warehouse = serializers.CharField(source="warehouse.code")
    item = serializers.CharField(source="item.code")
    available = serializers.IntegerField(help_text="On hand minus reserved.")

    class Meta:
        model = StockLevel
        fields = [
            "warehouse",
            "item",
            "on_hand",
            "reserved",
            "available",
            "damaged",
            "minimum_level",
            "below_minimum",
            "updated_at",
        ]
