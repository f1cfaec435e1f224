"""The local mirror of an organisation's Xero contacts, with the keys matching reads."""

import logging
from collections.abc import Iterable
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any, Self

from django.db import models
from django.db.models import Case, Q, Value, When

from contacts.models import any_field_contains
from sync.xero.data import ContactDetails

from .connections import XeroConnection

logger = logging.getLogger(__name__)


class How(StrEnum):
    """How a searched field matched the text typed (templates word it)."""

    STARTS = "starts"  # the field starts with it
    WORD = "word"  # a word of the name starts with it (after a space, "-", "(" or "/")
    INSIDE = "inside"  # it is inside the field


@dataclass(frozen=True)
class SearchMatch:
    """Why a Xero contact matched a search: the field and how."""

    field: str
    how: How


# A word of a name starts after one of these.
WORD_STARTS = (" ", "-", "(", "/")


class XeroContactQuerySet(models.QuerySet["XeroContact"]):
    SEARCHED_FIELDS = [f.name for f in fields(ContactDetails)]
    # Best first: the name's start, a word of the name, another field's start, inside the
    # name, inside another field. A row's `search_rank` is its best match's place here.
    SEARCH_MATCHES = (
        SearchMatch("name", How.STARTS),
        SearchMatch("name", How.WORD),
        *(SearchMatch(f, How.STARTS) for f in SEARCHED_FIELDS if f != "name"),
        SearchMatch("name", How.INSIDE),
        *(SearchMatch(f, How.INSIDE) for f in SEARCHED_FIELDS if f != "name"),
    )

    def active(self) -> Self:
        return self.filter(status=XeroContact.Status.ACTIVE)

    def search(self, text: str) -> Self:
        """Match any of the contact's details (name, email, account, contact or tax number)."""
        text = text.strip()
        if not text:
            return self.none()
        return self.filter(any_field_contains(text, self.SEARCHED_FIELDS))

    def ranked_search(self, text: str) -> Self:
        """The search, best matches first (SEARCH_MATCHES), then by name; each row carries
        `search_rank`, its best match's place in SEARCH_MATCHES."""
        text = text.strip()
        whens = []
        for rank, match in enumerate(self.SEARCH_MATCHES):
            if match.how == How.STARTS:
                where = Q(**{f"{match.field}__istartswith": text})
            elif match.how == How.WORD:
                where = Q()
                for start in WORD_STARTS:
                    where |= Q(**{f"{match.field}__icontains": start + text})
            else:
                where = Q(**{f"{match.field}__icontains": text})
            whens.append(When(where, then=Value(rank)))
        ranked = self.search(text).annotate(
            search_rank=Case(*whens, default=Value(len(whens)), output_field=models.IntegerField())
        )
        return ranked.order_by("search_rank", "name", "pk")

    def bulk_create(
        self, objs: Iterable["XeroContact"], *args: Any, **kwargs: Any
    ) -> list["XeroContact"]:
        # Bulk inserts skip save(): the match keys are set here too, and rewritten with an
        # upsert's other fields.
        rows = list(objs)
        for row in rows:
            row.set_match_keys()
        if kwargs.get("update_fields"):
            kwargs["update_fields"] = [*kwargs["update_fields"], *MATCH_KEYS]
        return super().bulk_create(rows, *args, **kwargs)


class XeroContact(models.Model):
    """The local mirror of one Xero contact, archived ones included. Never edited here."""

    class Status(models.TextChoices):
        ACTIVE = "ACTIVE", "Active"
        ARCHIVED = "ARCHIVED", "Archived"
        GDPRREQUEST = "GDPRREQUEST", "GDPR request"

    connection = models.ForeignKey(
        XeroConnection, on_delete=models.CASCADE, related_name="xero_contacts"
    )
    contact_id = models.UUIDField("Xero contact ID")
    name = models.CharField(max_length=255)
    first_name = models.CharField(max_length=255, blank=True)
    last_name = models.CharField(max_length=255, blank=True)
    email = models.CharField(max_length=255, blank=True)
    account_number = models.CharField(max_length=50, blank=True)
    contact_number = models.CharField(max_length=50, blank=True)
    tax_number = models.CharField(max_length=50, blank=True)
    status = models.CharField(max_length=16, choices=Status, default=Status.ACTIVE)
    merged_into_xero_contact_id = models.UUIDField("merged into", null=True, blank=True)
    is_customer = models.BooleanField(default=False)
    is_supplier = models.BooleanField(default=False)
    updated_in_xero = models.DateTimeField(null=True, blank=True)
    mirrored_at = models.DateTimeField(auto_now=True)
    # The fields changed to be stored (characters a database refuses removed, text cut to
    # its column), comma-separated; empty for a contact mirrored as Xero has it.
    cleaned_fields = models.CharField(max_length=255, blank=True)
    # Normalised details (sync.links.normalise), kept by save() and bulk_create(): the
    # suggestions for a page of Omni contacts look their candidates up by these, indexed.
    name_key = models.CharField(max_length=255, blank=True, editable=False)
    name_prefix = models.CharField(max_length=255, blank=True, editable=False)
    email_key = models.CharField(max_length=255, blank=True, editable=False)
    tax_key = models.CharField(max_length=50, blank=True, editable=False)
    account_key = models.CharField(max_length=50, blank=True, editable=False)
    number_key = models.CharField(max_length=50, blank=True, editable=False)

    objects = XeroContactQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "contact_id"], name="one_mirror_row_per_xero_contact"
            )
        ]
        indexes = [
            models.Index(fields=["connection", "name"]),
            models.Index(fields=["connection", "name_key"], name="xero_contact_name_key"),
            models.Index(fields=["connection", "name_prefix"], name="xero_contact_name_prefix"),
            models.Index(fields=["connection", "email_key"], name="xero_contact_email_key"),
            models.Index(fields=["connection", "tax_key"], name="xero_contact_tax_key"),
            models.Index(fields=["connection", "account_key"], name="xero_contact_account_key"),
            models.Index(fields=["connection", "number_key"], name="xero_contact_number_key"),
            # The link check's "mirrored since the last check" (sync.links.health).
            models.Index(fields=["connection", "mirrored_at"], name="xero_contact_mirrored"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.set_match_keys()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], *MATCH_KEYS}
        super().save(*args, **kwargs)

    def set_match_keys(self) -> None:
        from sync.links.normalise import match_keys

        keys = match_keys(
            name=self.name,
            email=self.email,
            tax_number=self.tax_number,
            account_number=self.account_number,
            contact_number=self.contact_number,
        )
        for column, key in keys.items():
            setattr(self, column, key)


MATCH_KEYS = ["name_key", "name_prefix", "email_key", "tax_key", "account_key", "number_key"]


class UnmirroredContact(models.Model):
    """A Xero contact the last refresh could not store in the mirror, and why: the rest of
    the refresh went on without it. Removed once the contact is mirrored."""

    connection = models.ForeignKey(
        XeroConnection, on_delete=models.CASCADE, related_name="unmirrored_contacts"
    )
    contact_id = models.UUIDField("Xero contact ID")
    name = models.CharField(max_length=255, blank=True)
    reason = models.CharField(max_length=500)
    at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "contact_id"], name="one_unmirrored_row_per_xero_contact"
            )
        ]

    def __str__(self) -> str:
        return self.name or str(self.contact_id)


def fitted(model: type[models.Model], values: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Values from Xero with text cut to the model's column lengths (a longer value would
    fail the save), and the names of those cut, which are logged."""
    cut = []
    for name, value in values.items():
        limit = getattr(model._meta.get_field(name), "max_length", None)
        if limit and isinstance(value, str) and len(value) > limit:
            values = {**values, name: value[:limit]}
            cut.append(name)
    if cut:
        logger.warning("Text from Xero too long for %s in %s: cut", model.__name__, ", ".join(cut))
    return values, cut
