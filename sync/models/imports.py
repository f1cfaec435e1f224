"""Imports of Xero contacts exports, their rows, and dismissed match suggestions."""

from django.conf import settings
from django.db import models

from contacts.models import Contact

from .connections import XeroConnection


class ImportFile(models.Model):
    """A spreadsheet the Contact admin's Import (django-import-export) keeps between its
    preview and its confirmation: here, not on the disk of the web node that took it, so
    that any node can confirm it. Found by its random name; removed once imported, or a day
    later."""

    name = models.CharField(max_length=64, unique=True, editable=False)
    data = models.BinaryField(editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return self.name


class ContactImport(models.Model):
    """A contacts spreadsheet an accountant uploaded: kept here between its preview and its
    confirmation, found again only by its random token and only by the person who uploaded
    it; then what came of its rows."""

    token = models.CharField(max_length=64, unique=True, editable=False)
    # The history outlives a person's account; an import without one can no longer be
    # previewed or confirmed by anyone.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    connection = models.ForeignKey(
        XeroConnection,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The organisation whose Xero contacts the rows are linked to.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    file_name = models.CharField(max_length=255)
    file_data = models.BinaryField(editable=False, help_text="Emptied once imported.")
    customers = models.BooleanField(default=False)
    suppliers = models.BooleanField(default=False)
    details = models.JSONField(
        default=list,
        blank=True,
        help_text="The details updated on matched Omni contacts (DETAILS' codes); none is "
        "Link only: a matched contact keeps its Omni details.",
    )
    confirmed_at = models.DateTimeField("imported at", null=True, blank=True)
    created_count = models.PositiveIntegerField("created", default=0)
    updated_count = models.PositiveIntegerField("updated", default=0)
    linked_count = models.PositiveIntegerField("linked", default=0)
    review_count = models.PositiveIntegerField("to review", default=0)
    problem_count = models.PositiveIntegerField("rows with errors", default=0)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.file_name

    @property
    def roles(self) -> str:
        if self.customers and self.suppliers:
            return "customers and suppliers"
        return "customers" if self.customers else "suppliers"


class ImportedContact(models.Model):
    """One row of a confirmed import: the Omni contact it made or updated, and whether it was
    linked in the same step (or why not: those are the rows to review)."""

    class Outcome(models.TextChoices):
        LINKED = "linked", "Linked"
        ALREADY_LINKED = "already_linked", "Already linked"
        AMBIGUOUS = "ambiguous", "Several Xero contacts match"
        NO_MATCH = "no_match", "No Xero contact matches"
        REFUSED = "refused", "Not linked"

    REVIEW = [Outcome.AMBIGUOUS, Outcome.NO_MATCH, Outcome.REFUSED]

    contact_import = models.ForeignKey(ContactImport, on_delete=models.CASCADE, related_name="rows")
    row_number = models.PositiveIntegerField()
    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    contact_name = models.CharField(max_length=255)
    created = models.BooleanField(help_text="A new Omni contact (else an existing one updated).")
    outcome = models.CharField(max_length=16, choices=Outcome)
    message = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["row_number"]

    def __str__(self) -> str:
        return f"Row {self.row_number}: {self.contact_name}"


class DismissedSuggestion(models.Model):
    """A suggested Xero contact someone said is not this Omni contact: never suggested again."""

    connection = models.ForeignKey(XeroConnection, on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    xero_contact_id = models.UUIDField("Xero contact ID")
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    dismissed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-dismissed_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "contact", "xero_contact_id"],
                name="one_dismissal_per_suggestion",
            )
        ]

    def __str__(self) -> str:
        return f"{self.contact} ≠ {self.xero_contact_id}"
