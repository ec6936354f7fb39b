from django.apps import AppConfig


class ShellConfig(AppConfig):
    name = "oms.shell"
    label = "shell"
    verbose_name = "OMS shell"
