from django.urls import path

from warehouse.api import views

urlpatterns = [
    path("stock-levels/", views.StockLevelListApi.as_view(), name="stock-level-list"),
]
