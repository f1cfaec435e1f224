from django.urls import path

from . import views

app_name = "sync"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("<slug:tab>/contacts/<int:pk>/unlink/", views.contact_unlink_view, name="unlink"),
    path("<slug:tab>/<slug:subtab>/", views.subtab_view, name="subtab"),
]
