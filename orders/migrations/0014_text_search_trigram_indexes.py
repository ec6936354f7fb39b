"""The queue's search finds text anywhere in an order's number and in its project's ID,
site code and site name (orders.selectors.orders_matching_text). On PostgreSQL, GIN
trigram indexes (pg_trgm) serve those searches; SQLite gets no indexes and needs none
at its sizes. See oms.text_search."""

from django.db import migrations

from oms.text_search import trigram_indexes


class Migration(migrations.Migration):
    dependencies = [("orders", "0013_coordinators_import_projects")]

    operations = [
        *trigram_indexes("orders", "Order", {"order_number_trgm_idx": "number"}),
        *trigram_indexes(
            "orders",
            "Project",
            {
                "project_external_id_trgm_idx": "external_id",
                "project_site_code_trgm_idx": "site_code",
                "project_name_trgm_idx": "name",
            },
        ),
    ]
