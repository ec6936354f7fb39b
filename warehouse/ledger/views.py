"""The back office for stock: the inventory per warehouse and item, and the ledger
behind each of its numbers."""

from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from oms.pages import render_page
from warehouse.ledger import selectors
from warehouse.ledger.filters import StockLevelFilter
from warehouse.ledger.models import StockLevel, Warehouse

PAGE_SIZE = 50
LEDGER_PAGE_SIZE = 50


@login_required
@permission_required("warehouse.view_stocklevel", raise_exception=True)
@require_GET
def inventory(request):
    levels = StockLevelFilter(request.GET, queryset=selectors.stock_list())
    page = Paginator(levels.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filter": levels,
        "page": page,
        "query": query.urlencode(),
        "warehouses": Warehouse.objects.order_by("code").values_list("code", "name"),
    }
    return render_page(
        request, "warehouse/inventory.html", "warehouse/partials/inventory_results.html", context
    )


@login_required
@permission_required("warehouse.view_stockmovement", raise_exception=True)
@require_GET
def ledger(request, pk):
    """The movements behind one number of a stock level, newest first, with the running
    balance after each; for reserved, what it is held for; the minimum's history."""
    field = request.GET.get("field", "on_hand")
    if field not in selectors.LEDGER_FIELDS:
        raise Http404(f"No ledger for {field!r}.")
    level = get_object_or_404(StockLevel.objects.select_related("warehouse", "item"), pk=pk)
    movements = selectors.level_movements(level, field)
    page = Paginator(movements, LEDGER_PAGE_SIZE).get_page(request.GET.get("page"))
    total, rows = selectors.ledger_page(level, field, list(page.object_list))
    shown = {"available": level.available}.get(field, getattr(level, field, None))
    context = {
        "level": level,
        "field": field,
        "label": selectors.LEDGER_FIELDS[field][0],
        "fields": {key: label for key, (label, _) in selectors.LEDGER_FIELDS.items()},
        "page": page,
        "rows": rows,
        "total": total,
        "shown": shown,
        "allocations": selectors.active_allocations(level) if field == "reserved" else None,
        "minimum_history": selectors.minimum_history(level)[:20],
    }
    return render(request, "warehouse/ledger.html", context)
