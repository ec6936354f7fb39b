"""Stock levels are updated in place many times (every receipt, adjustment, reserve and
issue), and an allocation run updates the same levels once per short transaction it
writes in. Those columns are not indexed: with 30% of each page left free on
PostgreSQL, such an update stays on its page (a HOT update) and touches none of the
table's three indexes. Only pages written from now on are affected."""

from django.db import migrations


def set_fillfactor(apps, schema_editor, value):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(apps.get_model("warehouse", "StockLevel")._meta.db_table)
    if value is None:
        schema_editor.execute(f"ALTER TABLE {table} RESET (fillfactor)")
    else:
        schema_editor.execute(f"ALTER TABLE {table} SET (fillfactor = {int(value)})")


class Migration(migrations.Migration):
    dependencies = [("warehouse", "0006_release_asks")]

    operations = [
        migrations.RunPython(
            lambda apps, editor: set_fillfactor(apps, editor, 70),
            lambda apps, editor: set_fillfactor(apps, editor, None),
        )
    ]
