from django.core.management.base import BaseCommand, CommandError

from warehouse.ledger.reconcile import difference_table, reconcile_stock


class Command(BaseCommand):
    help = (
        "Check that every stock level equals the sums of its ledger movements and that "
        "reserved equals its active allocations. Lists the differences and exits with "
        "status 1 when there are any."
    )

    def handle(self, *args, **options):
        result = reconcile_stock()
        checked = f"{result.levels:,} stock levels, {result.movements:,} movements"
        if result.ok:
            self.stdout.write(f"Checked {checked}: every level matches its ledger.")
            return
        self.stdout.write(difference_table(result.differences))
        raise CommandError(
            f"Checked {checked}: {len(result.differences)} difference(s) between the stock "
            "levels and the ledger.",
            returncode=1,
        )
