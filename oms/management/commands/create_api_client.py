from django.core.management.base import BaseCommand, CommandError

from oms.actors import Actor
from oms.clients import api_client_create
from oms.errors import DomainError
from oms.scopes import Scope


class Command(BaseCommand):
    help = "Create an API client for an external system and print its token (shown once)."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument(
            "--scope",
            dest="scopes",
            nargs="+",
            required=True,
            choices=Scope.values,
            metavar="SCOPE",
            help=f"One or more of: {', '.join(Scope.values)}",
        )
        parser.add_argument("--description", default="")

    def handle(self, *args, name, scopes, description, **options):
        try:
            client, token = api_client_create(
                name=name,
                scopes=scopes,
                description=description,
                actor=Actor.system("create_api_client"),
            )
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Created API client {client.name} with {', '.join(client.scopes)}.")
        self.stdout.write("Its token, shown only now (store it in the client's secret store):")
        self.stdout.write(token)
