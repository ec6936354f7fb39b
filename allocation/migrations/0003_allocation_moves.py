"""Allocation (stock reserved for an order line) moved to the stock ledger
(warehouse.ledger). Its table stays as it is: only Django's state changes here."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("allocation", "0002_engine"),
        ("warehouse", "0010_allocation_moves"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Allocation")],
        ),
    ]
