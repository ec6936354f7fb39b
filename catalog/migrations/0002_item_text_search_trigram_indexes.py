"""The queue's search finds orders by the code or description of an item on their lines,
anywhere in the text (orders.selectors.orders_matching_text). On PostgreSQL, GIN trigram
indexes (pg_trgm) serve those searches of the catalog; SQLite gets none. See
oms.text_search."""

from django.db import migrations

from oms.text_search import trigram_indexes


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = trigram_indexes(
        "catalog",
        "Item",
        {"item_code_trgm_idx": "code", "item_description_trgm_idx": "description"},
    )
