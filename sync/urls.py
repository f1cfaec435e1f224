from django.urls import path

from sync.connections import views as connection_views
from sync.dashboard import admin_tab as sync_views
from sync.dashboard import contacts as views
from sync.dashboard import live, notifications, payments, transactions
from sync.imports import views as import_views
from sync.links import views as link_views
from sync.uploads import views as upload_views

app_name = "sync"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("connect/", connection_views.connect, name="connect"),
    path("callback/", connection_views.callback, name="callback"),
    path("connect/organisation/", connection_views.choose_organisation, name="choose_organisation"),
    path("connections/<id:pk>/finish/", connection_views.finish, name="finish_connecting"),
    path("connections/<id:pk>/disconnect/", connection_views.disconnect, name="disconnect"),
    path(
        "connections/<id:pk>/refresh-contacts/",
        connection_views.refresh_contacts,
        name="refresh_contacts",
    ),
    path("uploads/progress/", upload_views.upload_progress, name="upload_progress"),
    path("uploads/<id:pk>/", upload_views.upload_detail, name="upload_detail"),
    path("notifications/", notifications.notifications_list, name="notifications"),
    path("syncs/progress/", transactions.sync_progress, name="sync_progress"),
    path("syncs/resync/", transactions.resync_refused, name="resync_refused"),
    path("<slug:tab>/contacts/<id:pk>/xero-search/", link_views.xero_suggest, name="xero_suggest"),
    path("<slug:tab>/contacts/<id:pk>/link/", link_views.link_existing, name="link_existing"),
    path("<slug:tab>/contacts/undo/<id:event>/", link_views.link_undo, name="link_undo"),
    path(
        "<slug:tab>/contacts/<id:pk>/create-anyway/",
        upload_views.create_anyway,
        name="create_anyway",
    ),
    path("organisation/", views.switch_organisation, name="switch_organisation"),
    path("import/", import_views.import_upload, name="import_upload"),
    path("import/sample.csv", import_views.import_sample, name="import_sample"),
    path("import/<token:token>/", import_views.import_preview, name="import_preview"),
    path("import/<token:token>/confirm/", import_views.import_confirm, name="import_confirm"),
    path("imports/<id:pk>/", import_views.import_result, name="import_result"),
    path(
        "<slug:tab>/contacts/<id:pk>/dismiss-suggestion/",
        import_views.suggestion_dismiss,
        name="suggestion_dismiss",
    ),
    path(
        "<slug:tab>/contacts/<id:pk>/restore-suggestion/",
        import_views.suggestion_restore,
        name="suggestion_restore",
    ),
    path(
        "<slug:tab>/contacts/accept-suggestions/",
        import_views.suggestions_accept,
        name="suggestions_accept",
    ),
    path("export/links.csv", import_views.export_links, name="export_links"),
    path("export/link-events.csv", import_views.export_link_events, name="export_link_events"),
    path("<slug:tab>/contacts/action/", views.contacts_action, name="contacts_action"),
    path("<slug:tab>/payments/action/", payments.payments_action, name="payments_action"),
    path("<slug:tab>/contacts/<id:pk>/", views.contact_detail, name="contact_detail"),
    path("<slug:tab>/contacts/<id:pk>/unlink/", views.contact_unlink_view, name="unlink"),
    path("<slug:tab>/contacts/<id:pk>/row/", views.contact_row, name="contact_row"),
    path("<slug:tab>/contacts/<id:pk>/relink/", link_views.relink, name="relink"),
    path("<slug:tab>/contacts/<id:pk>/upload/", upload_views.upload_one, name="upload_one"),
    path(
        "<slug:tab>/<slug:subtab>/action/",
        transactions.transactions_action,
        name="transactions_action",
    ),
    # The Admin tab: settings, sync log, errors, discrepancies (sync/sync_views.py).
    path("admin/", sync_views.admin_tab, name="admin_tab"),
    path("admin/settings/", sync_views.admin_settings_save, name="admin_settings_save"),
    path("admin/fetch/", sync_views.admin_fetch, name="admin_fetch"),
    path("admin/webhooks/", sync_views.admin_webhooks, name="admin_webhooks"),
    path("admin/webhooks/test/", sync_views.admin_webhooks_test, name="admin_webhooks_test"),
    path("log/", sync_views.log, name="sync_log"),
    path("log/export.csv", sync_views.log_export, name="sync_log_export"),
    path("log/prune/", sync_views.log_prune, name="sync_log_prune"),
    path("log/<id:pk>/", sync_views.run_detail, name="sync_run"),
    path("errors/", sync_views.errors, name="errors"),
    path("errors/<id:contact>/resync/", sync_views.errors_resync, name="errors_resync"),
    path("errors/fix/", sync_views.errors_fix, name="errors_fix"),
    path("discrepancies/", sync_views.discrepancies_view, name="discrepancies"),
    path("discrepancies/refresh/", sync_views.discrepancies_refresh, name="discrepancies_refresh"),
    path("discrepancies/resolve/", sync_views.discrepancy_resolve, name="discrepancy_resolve"),
    path("discrepancies/reset/", sync_views.discrepancy_reset, name="discrepancy_reset"),
    path("<slug:tab>/<slug:subtab>/changes/", live.changes, name="live_changes"),
    path("<slug:tab>/<slug:subtab>/", views.subtab_view, name="subtab"),
]
