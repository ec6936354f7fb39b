from django.urls import path

from allocation import views

app_name = "allocation"

urlpatterns = [
    path("", views.runs, name="runs"),
    path("start/", views.start, name="start"),
    path("<int:pk>/", views.run, name="run"),
    path("<int:pk>/outcomes.csv", views.run_export, {"fmt": "csv"}, name="run_csv"),
    path("<int:pk>/outcomes.xlsx", views.run_export, {"fmt": "xlsx"}, name="run_xlsx"),
    path("<int:pk>/summary/", views.run_summary, name="run_summary"),
    path("<int:pk>/blocking/", views.blocking, name="blocking"),
]
