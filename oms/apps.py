from django.apps import AppConfig


class OmsConfig(AppConfig):
    name = "oms"
    verbose_name = "OMS core"

    def ready(self) -> None:
        from oms import audit, correlation

        audit.connect_signals()
        correlation.connect_celery_signals()
