from django.urls import path

from warehouse.ledger import views

app_name = "warehouse"

urlpatterns = [
    path("", views.inventory, name="inventory"),
    path("<int:pk>/ledger/", views.ledger, name="ledger"),
]
