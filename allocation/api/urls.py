from django.urls import path

from allocation.api import views

urlpatterns = [
    path("allocation-runs/", views.AllocationRunListApi.as_view(), name="allocation-run-list"),
    path(
        "allocation-runs/<int:pk>/",
        views.AllocationRunDetailApi.as_view(),
        name="allocation-run-detail",
    ),
    path(
        "allocation-runs/<int:pk>/outcomes/",
        views.AllocationOutcomeListApi.as_view(),
        name="allocation-run-outcomes",
    ),
]
