"""The admin app, with the project's site (omni_xero.admin_site.Site) as admin.site."""

from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    default_site = "omni_xero.admin_site.Site"
