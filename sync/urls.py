from django.urls import path

from . import connection_views, link_views, transaction_views, views

app_name = "sync"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("connect/", connection_views.connect, name="connect"),
    path("callback/", connection_views.callback, name="callback"),
    path("connect/organisation/", connection_views.choose_organisation, name="choose_organisation"),
    path("connections/<int:pk>/finish/", connection_views.finish, name="finish_connecting"),
    path("connections/<int:pk>/disconnect/", connection_views.disconnect, name="disconnect"),
    path(
        "connections/<int:pk>/refresh-contacts/",
        connection_views.refresh_contacts,
        name="refresh_contacts",
    ),
    path("uploads/progress/", link_views.upload_progress, name="upload_progress"),
    path("syncs/progress/", transaction_views.sync_progress, name="sync_progress"),
    path("syncs/resync/", transaction_views.resync_refused, name="resync_refused"),
    path("<slug:tab>/contacts/<int:pk>/xero-search/", link_views.xero_suggest, name="xero_suggest"),
    path("<slug:tab>/contacts/<int:pk>/link/", link_views.link_existing, name="link_existing"),
    path("organisation/", views.switch_organisation, name="switch_organisation"),
    path("<slug:tab>/contacts/action/", views.contacts_action, name="contacts_action"),
    path("<slug:tab>/contacts/<int:pk>/", views.contact_detail, name="contact_detail"),
    path("<slug:tab>/contacts/<int:pk>/unlink/", views.contact_unlink_view, name="unlink"),
    path(
        "<slug:tab>/<slug:subtab>/action/",
        transaction_views.transactions_action,
        name="transactions_action",
    ),
    path("<slug:tab>/<slug:subtab>/", views.subtab_view, name="subtab"),
]
