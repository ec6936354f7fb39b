from django.apps import AppConfig


class WarehouseConfig(AppConfig):
    name = "warehouse"

    def ready(self):
        from oms import relay

        # The orders' events the warehouse integration answers.
        for event_type, handler in (
            ("order.released", "order_released"),
            ("order.rejected", "order_withdrawn"),
            ("order.cancelled", "order_withdrawn"),
            ("order.completed", "order_completed"),
        ):
            relay.register(event_type, f"warehouse.integration.releases.{handler}")
        relay.register("release.resent", "warehouse.integration.dispatch.send_resent_release")
