from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from sync.monitoring import views as monitoring_views
from sync.webhooks import views as webhook_views

admin.site.site_header = "omni-xero administration"
admin.site.site_title = "omni-xero admin"

handler400 = "omni_xero.bad_request.bad_request"
handler403 = "omni_xero.error_pages.forbidden"
handler404 = "omni_xero.error_pages.not_found"
handler500 = "omni_xero.error_pages.server_error"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="sync:dashboard"), name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounting/xero/", include("sync.urls")),
    # Xero's webhooks: no slash to append, no login; signed (sync/webhooks/).
    path("webhooks/xero", webhook_views.xero_webhook, name="xero_webhook"),
    path("admin/", admin.site.urls),
    # For load balancers, orchestrators and Prometheus: no login (sync/monitoring/).
    path("health/live", monitoring_views.live, name="health_live"),
    path("health/", monitoring_views.health, name="health"),
    path("metrics", monitoring_views.metrics_view, name="metrics"),
]
