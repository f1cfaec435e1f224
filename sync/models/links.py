"""Links joining Omni contacts to Xero contacts, and Omni contacts as the dashboard lists them."""

from typing import ClassVar, Self

from django.conf import settings
from django.db import models
from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from contacts.models import Contact, ContactQuerySet
from transactions.models import Transaction

from .connections import XeroConnection
from .mirror import XeroContact
from .uploads import RECENT_UPLOAD, UploadRow


class LinkMethod(models.TextChoices):
    UPLOAD = "upload", "Uploaded to Xero"
    EXISTING = "existing", "Existing Xero contact"
    IMPORT = "import", "Imported from a spreadsheet"


class LinkStatus(models.TextChoices):
    VALID = "valid", "Valid"
    INVALID = "invalid", "Invalid"


class InvalidReason(models.TextChoices):
    ARCHIVED = "archived", "Archived in Xero"
    MERGED = "merged", "Merged into another Xero contact"
    DELETED = "deleted", "Deleted from Xero"
    GDPR = "gdpr", "GDPR request in Xero"


class ContactLinkQuerySet(models.QuerySet["ContactLink"]):
    def valid(self) -> Self:
        return self.filter(status=LinkStatus.VALID)

    def invalid(self) -> Self:
        return self.filter(status=LinkStatus.INVALID)


class ContactLink(models.Model):
    """Joins one Omni contact to one Xero contact within one connection.

    Made and changed only through the services in sync/services.py, which audit every change.
    """

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="links")
    connection = models.ForeignKey(XeroConnection, on_delete=models.CASCADE, related_name="links")
    xero_contact_id = models.UUIDField("Xero contact ID")
    xero_name = models.CharField(
        "Xero name", max_length=255, help_text="The Xero contact's name when last seen."
    )
    method = models.CharField("linked by", max_length=16, choices=LinkMethod)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField("linked at", auto_now_add=True)
    status = models.CharField(max_length=16, choices=LinkStatus, default=LinkStatus.VALID)
    invalid_reason = models.CharField(max_length=16, choices=InvalidReason, blank=True)
    merged_into_xero_contact_id = models.UUIDField(
        "merged into Xero contact ID",
        null=True,
        blank=True,
        help_text="The surviving Xero contact, when this one was merged into it.",
    )
    status_checked_at = models.DateTimeField(null=True, blank=True)
    # The Omni contact's details fingerprint when it was linked or last uploaded: a contact
    # whose fingerprint differs now has changes that Upload would send.
    uploaded_fingerprint = models.CharField(max_length=32, blank=True, editable=False)
    uploaded_at = models.DateTimeField("last uploaded", null=True, blank=True)

    objects = ContactLinkQuerySet.as_manager()

    class Meta:
        ordering = ["contact__name", "pk"]
        permissions = [
            ("use_dashboard", "Can link, unlink, upload and sync from the Xero dashboard"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["contact", "connection"],
                name="one_link_per_contact_per_connection",
                violation_error_message="This contact is already linked in this Xero organisation.",
            ),
            models.CheckConstraint(
                condition=(
                    Q(status=LinkStatus.VALID, invalid_reason="")
                    | (Q(status=LinkStatus.INVALID) & ~Q(invalid_reason=""))
                ),
                name="link_invalid_iff_reason",
                violation_error_message="An invalid link needs a reason; a valid one has none.",
            ),
            models.CheckConstraint(
                condition=(
                    Q(merged_into_xero_contact_id__isnull=True)
                    | Q(invalid_reason=InvalidReason.MERGED)
                ),
                name="link_survivor_only_when_merged",
                violation_error_message="Only a merged link has a surviving Xero contact.",
            ),
        ]
        indexes = [
            models.Index(fields=["connection", "xero_contact_id"]),
            # The link check's "never judged" (status_checked_at empty; sync.links.health).
            # The invalid links of an organisation: the Errors view's contacts and its badge.
            models.Index(
                fields=["connection", "contact"],
                condition=Q(status=LinkStatus.INVALID),
                name="link_invalid_idx",
            ),
            models.Index(fields=["connection", "status_checked_at"], name="link_checked"),
            # The contacts lists sorted by the linked Xero contact's name.
            models.Index(
                fields=["connection", "xero_name", "contact"], name="link_xero_name_page_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contact} → {self.xero_name}"

    @property
    def is_valid(self) -> bool:
        return self.status == LinkStatus.VALID

    @property
    def invalid_message(self) -> str:
        """Why the link cannot be used, in words for an accountant; empty when it is valid."""
        if self.is_valid:
            return ""
        messages = {
            InvalidReason.ARCHIVED: "{name} is archived in Xero. Restore it in Xero, or unlink "
            "and link another contact.",
            InvalidReason.MERGED: "{name} was merged into another Xero contact. Relink to the "
            "surviving contact, or unlink and link another contact.",
            InvalidReason.DELETED: "{name} no longer exists in Xero. Unlink and link another "
            "contact.",
            InvalidReason.GDPR: "{name} is under a GDPR request in Xero and cannot be used. "
            "Unlink and link another contact.",
        }
        return messages[InvalidReason(self.invalid_reason)].format(name=self.xero_name)


class SyncContactQuerySet(ContactQuerySet["SyncContact"]):
    """Omni contacts as the dashboard lists them: with their link in one organisation."""

    LINK_FILTERS = {
        "": "All",
        "unlinked": "No linked contact",
        "linked": "Linked",
        "invalid": "Invalid link",
        "blocked": "No valid link (cannot sync)",
        "changed": "Changed since last upload",
        "archived": "Invalid: archived in Xero",
        "merged": "Invalid: merged in Xero",
        "deleted": "Invalid: deleted from Xero",
        "gdpr": "Invalid: GDPR request in Xero",
    }

    def ready(self, to_sync: "QuerySet[Transaction]") -> Self:
        """Contacts with at least one of these transactions (the organisation's that wait to
        be synced, refused ones included: the list's default, as in Omni)."""
        return self.filter(models.Exists(to_sync.filter(contact=models.OuterRef("pk"))))

    def with_ready_count(self, to_sync: "QuerySet[Transaction]") -> Self:
        """Annotate `ready`: how many of these transactions (the organisation's that wait to
        be synced) are the contact's."""
        counted = (
            to_sync.filter(contact=models.OuterRef("pk"))
            .order_by()
            .values("contact")
            .annotate(n=models.Count("pk"))
            .values("n")
        )
        return self.annotate(
            ready=Coalesce(models.Subquery(counted, output_field=models.IntegerField()), 0)
        )

    def with_link(self, connection: "XeroConnection | None") -> Self:
        """Prefetch the contact's link in the connection as `current_links` (0 or 1 of them),
        and its uploads there, newest first, as `recent_uploads` (for `upload_result`)."""
        links = (
            ContactLink.objects.filter(connection=connection).annotate(
                # A merged link's survivor as the mirror knows it, in the same query.
                survivor_name=models.Subquery(
                    XeroContact.objects.filter(
                        connection=connection,
                        contact_id=models.OuterRef("merged_into_xero_contact_id"),
                    ).values("name")[:1]
                )
            )
            if connection is not None
            else ContactLink.objects.none()
        )
        uploads = (
            UploadRow.objects.filter(
                connection=connection, updated_at__gte=timezone.now() - RECENT_UPLOAD
            ).order_by("-pk")
            if connection is not None
            else UploadRow.objects.none()
        )
        return self.prefetch_related(
            models.Prefetch("links", queryset=links, to_attr="current_links"),
            models.Prefetch("upload_rows", queryset=uploads, to_attr="recent_uploads"),
        )

    def linked(self, connection: "XeroConnection | None") -> Self:
        if connection is None:
            return self.none()  # nothing is linked without a connection
        return self.filter(links__connection=connection)

    def unlinked(self, connection: "XeroConnection | None") -> Self:
        if connection is None:
            return self
        return self.exclude(links__connection=connection)

    def invalid(self, connection: "XeroConnection | None") -> Self:
        if connection is None:
            return self.none()
        return self.filter(links__connection=connection, links__status=LinkStatus.INVALID)

    def invalid_because(self, reason: str, connection: "XeroConnection | None") -> Self:
        """Contacts whose link is invalid for this reason (InvalidReason)."""
        if connection is None:
            return self.none()
        return self.filter(
            links__connection=connection,
            links__status=LinkStatus.INVALID,
            links__invalid_reason=reason,
        )

    def link_counts(
        self, connection: "XeroConnection | None", to_sync: "QuerySet[Transaction]"
    ) -> dict[str, int]:
        """How many of these contacts each link filter keeps, in one aggregate query: linked,
        "unlinked_ready" (unlinked, with a transaction ready to sync), changed, and each
        reason a link is invalid for (InvalidReason's values). Empty without a connection."""
        if connection is None:
            return {}
        # One LEFT JOIN to the contact's link there (one at most), not a subquery per count.
        contacts = self.order_by().annotate(
            own=models.FilteredRelation("links", condition=Q(links__connection=connection))
        )
        linked = Q(own__isnull=False)
        ready = Q(models.Exists(to_sync.filter(contact=models.OuterRef("pk"))))
        count = models.Count
        by_reason = {
            reason: count(
                "pk", filter=Q(own__status=LinkStatus.INVALID, own__invalid_reason=reason)
            )
            for reason in InvalidReason.values
        }
        totals: dict[str, int] = contacts.aggregate(
            linked=count("pk", filter=linked),
            unlinked_ready=count("pk", filter=Q(own__isnull=True) & ready),
            changed=count(
                "pk", filter=linked & ~Q(own__uploaded_fingerprint=models.F("details_fingerprint"))
            ),
            **by_reason,
        )
        return totals

    def blocked(self, connection: "XeroConnection | None") -> Self:
        """Contacts whose transactions cannot go: no valid link (not linked, or invalid)."""
        if connection is None:
            return self
        valid = ContactLink.objects.filter(
            contact=models.OuterRef("pk"), connection=connection, status=LinkStatus.VALID
        )
        return self.exclude(models.Exists(valid))

    def changed(self, connection: "XeroConnection | None") -> Self:
        """Linked contacts whose details differ from what was last uploaded (or linked)."""
        if connection is None:
            return self.none()
        # One subquery, so that both conditions hold for the same link.
        return self.filter(
            models.Exists(
                ContactLink.objects.filter(
                    contact=models.OuterRef("pk"), connection=connection
                ).exclude(uploaded_fingerprint=models.OuterRef("details_fingerprint"))
            )
        )

    SORTS = ("name", "ready", "linked")

    def sorted_by(
        self, sort: str, connection: "XeroConnection | None", to_sync: "QuerySet[Transaction]"
    ) -> Self:
        """Order by one of SORTS ("-" first for descending; name when unknown): the name
        (the contacts' (name, id) index), the ready count (`to_sync`'s, annotated as `ready`:
        the only order that counts every contact's transactions, read through the partial
        index of those waiting to sync), or the linked Xero contact's name (one LEFT JOIN to
        the link there), unlinked ones last. The pk breaks ties, so that no contact shows on
        two pages or on none."""
        descending = sort.startswith("-")
        key = sort.removeprefix("-")
        contacts = self
        if key == "linked":
            contacts = self.annotate(
                own=models.FilteredRelation("links", condition=Q(links__connection=connection)),
                linked_name=models.F("own__xero_name"),
            )
        elif key == "ready":
            contacts = self.with_ready_count(to_sync)
        else:
            key = "name"
        field = models.F({"name": "name", "ready": "ready", "linked": "linked_name"}[key])
        if key == "name":  # never null: in the index's own order, either way
            first = field.desc() if descending else field.asc()
        else:
            first = field.desc(nulls_last=True) if descending else field.asc(nulls_last=True)
        then_name = [] if key == "name" else ["name"]
        return contacts.order_by(first, *then_name, "pk")

    def ready_counts(self, to_sync: "QuerySet[Transaction]") -> dict[int, int]:
        """How many of `to_sync` are each of these contacts' (a page of them: one grouped
        query over their transactions alone); a contact with none is left out."""
        counted = (
            to_sync.filter(contact__in=self.values("pk"))
            .order_by()
            .values("contact")
            .annotate(n=models.Count("pk"))
            .values_list("contact", "n")
        )
        return dict(counted)

    def link_filter(self, name: str, connection: "XeroConnection | None") -> Self:
        """One of LINK_FILTERS by its key; every contact for "" or an unknown key."""
        filters = {
            "linked": self.linked,
            "unlinked": self.unlinked,
            "invalid": self.invalid,
            "blocked": self.blocked,
            "changed": self.changed,
        }
        if name in InvalidReason.values:
            return self.invalid_because(name, connection)
        return filters[name](connection) if name in filters else self


SyncContactManager = models.Manager.from_queryset(SyncContactQuerySet)


class SyncContact(Contact):
    """An Omni contact with what the sync knows of it (its links); the same table."""

    objects: ClassVar[SyncContactManager["SyncContact"]] = SyncContactManager()

    class Meta:
        proxy = True
        ordering = ["name", "pk"]

    @property
    def link(self) -> "ContactLink | None":
        """The contact's link in the connection given to with_link()."""
        current = getattr(self, "current_links", None)
        return current[0] if current else None

    @property
    def upload_result(self) -> "UploadRow | None":
        """The contact's latest upload in the connection given to with_link(), while it is
        news: pending, needing attention, or done within RECENT_UPLOAD."""
        recent = getattr(self, "recent_uploads", None)
        return recent[0] if recent else None

    @property
    def is_changed(self) -> bool:
        """Linked, and its details differ from what was last uploaded (or linked)."""
        link = self.link
        return link is not None and link.uploaded_fingerprint != self.details_fingerprint
