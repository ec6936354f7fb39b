from django.urls import path

from oms.shell.urls import urlpatterns as oms_urlpatterns
from tests.benchmarks import floor

urlpatterns = [
    *oms_urlpatterns,
    path("bench/floor/orders/", floor.order_list, name="bench-floor-order-list"),
    path("bench/floor/orders/<str:number>/", floor.order_detail, name="bench-floor-order-detail"),
]
