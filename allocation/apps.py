from django.apps import AppConfig


class AllocationConfig(AppConfig):
    name = "allocation"

    def ready(self):
        from oms import relay

        # Stock became available: an allocation run follows soon.
        relay.register("stock.available", "allocation.triggers.stock_available")
