from django.urls import path

from . import connection_views, import_views, link_views, views

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
    path("<slug:tab>/contacts/<int:pk>/xero-search/", link_views.xero_suggest, name="xero_suggest"),
    path("<slug:tab>/contacts/<int:pk>/link/", link_views.link_existing, name="link_existing"),
    path("organisation/", views.switch_organisation, name="switch_organisation"),
    path("import/", import_views.import_upload, name="import_upload"),
    path("import/sample.csv", import_views.import_sample, name="import_sample"),
    path("import/<str:token>/", import_views.import_preview, name="import_preview"),
    path("import/<str:token>/confirm/", import_views.import_confirm, name="import_confirm"),
    path("imports/<int:pk>/", import_views.import_result, name="import_result"),
    path(
        "<slug:tab>/contacts/<int:pk>/dismiss-suggestion/",
        import_views.suggestion_dismiss,
        name="suggestion_dismiss",
    ),
    path(
        "<slug:tab>/contacts/accept-suggestions/",
        import_views.suggestions_accept,
        name="suggestions_accept",
    ),
    path("export/links.csv", import_views.export_links, name="export_links"),
    path("export/link-events.csv", import_views.export_link_events, name="export_link_events"),
    path("<slug:tab>/contacts/action/", views.contacts_action, name="contacts_action"),
    path("<slug:tab>/contacts/<int:pk>/", views.contact_detail, name="contact_detail"),
    path("<slug:tab>/contacts/<int:pk>/unlink/", views.contact_unlink_view, name="unlink"),
    path("<slug:tab>/<slug:subtab>/", views.subtab_view, name="subtab"),
]
