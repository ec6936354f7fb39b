import os

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from oms.actors import Actor
from oms.clients import api_client_create, api_client_rotate
from oms.models import ApiClient
from oms.scopes import Scope
from warehouse.integration.simulator import Behaviour, CallbackSender, Simulator, make_server

CLIENT_NAME = "warehouse-simulator"


class Command(BaseCommand):
    help = (
        "Run the warehouse system stand-in: takes release requests on --port and calls "
        "OMS back (accepted, then completed). See warehouse/simulator/__init__.py."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8010)
        parser.add_argument(
            "--oms-url", default="http://127.0.0.1:8000", help="Where OMS takes callbacks."
        )
        parser.add_argument(
            "--token",
            default=os.environ.get("OMS_SIMULATOR_TOKEN", ""),
            help="OMS API token with scope warehouse:write (or OMS_SIMULATOR_TOKEN).",
        )
        parser.add_argument(
            "--provision-token",
            action="store_true",
            help=f"Make (or rotate) the API client {CLIENT_NAME!r} and use its new token.",
        )
        parser.add_argument("--seed", type=int, default=None, help="Seed for the dice.")
        parser.add_argument("--callback-workers", type=int, default=4)
        defaults = Behaviour()
        for name, value in defaults.as_dict().items():
            flag = "--" + name.replace("_", "-")
            if isinstance(value, bool):
                parser.add_argument(flag, action="store_true", default=value)
            else:
                parser.add_argument(flag, type=type(value), default=value)

    def handle(self, *args, **options):
        token = options["token"]
        if options["provision_token"]:
            token = provision_token()
        if not token:
            raise CommandError("Give --token (scope warehouse:write) or --provision-token.")
        try:
            behaviour = Behaviour(**{name: options[name] for name in Behaviour().as_dict()})
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        sender = CallbackSender(options["oms_url"], token, workers=options["callback_workers"])
        simulator = Simulator(behaviour, sender, seed=options["seed"])
        try:
            server = make_server(options["host"], options["port"], simulator)
        except OSError as exc:
            where = f"{options['host']}:{options['port']}"
            raise CommandError(f"Cannot listen on {where}: {exc}") from exc
        self.stdout.write(
            f"Warehouse simulator on http://{options['host']}:{options['port']}/ calling back "
            f"{options['oms_url']} ({behaviour})",
        )
        self.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            sender.stop()
            server.server_close()


def provision_token() -> str:
    actor = Actor.system("run_warehouse_simulator")
    with transaction.atomic():
        client = ApiClient.objects.select_for_update().filter(name=CLIENT_NAME).first()
        if client is None:
            _, token = api_client_create(
                name=CLIENT_NAME,
                scopes=[Scope.WAREHOUSE_WRITE],
                description="The warehouse simulator of the demo.",
                actor=actor,
            )
            return token
        if not client.is_active:
            raise CommandError(f"The API client {CLIENT_NAME!r} is revoked.")
        return api_client_rotate(client=client, actor=actor)
