"""What the dashboard remembers for each user between visits."""

from django.conf import settings
from django.db import models

KEPT_QUERY_LENGTH = 1000


class KeptFilter(models.Model):
    """The last filter a user chose on one list (a subtab), as its query string: opened again
    without one, the list shows that filter."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    list_key = models.CharField(max_length=64)  # "<tab>/<subtab>"
    query = models.CharField(max_length=KEPT_QUERY_LENGTH, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "list_key"], name="one_kept_filter_per_list")
        ]

    def __str__(self) -> str:
        return f"{self.list_key}?{self.query}"
