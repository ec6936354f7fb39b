from django.core.management.base import BaseCommand

from oms.shell import demo


class Command(BaseCommand):
    help = "Load the demo data (once) and print the demo logins."

    def handle(self, *args, **options):
        if demo.load():
            self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        else:
            self.stdout.write("Demo data was already loaded; logins reset.")
        self.stdout.write("\nDemo logins (user password role):")
        for user in demo.USERS:
            self.stdout.write(f"{user.username} {user.password} {user.description}")
        self.stdout.write("")
