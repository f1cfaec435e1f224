"""Omni contacts: the customers and suppliers held in Cin7 Omni."""

import hashlib
import json
from collections.abc import Iterable
from typing import Any, Self

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

# The fields that make up a contact's details as another system would hold them: what a
# fingerprint covers, so that a change to any of them shows as a change.
DETAIL_FIELDS = [
    "name", "first_name", "last_name", "email", "phone", "account_number", "tax_number",
    "postal_line1", "postal_line2", "postal_city", "postal_region", "postal_postal_code",
    "postal_country", "street_line1", "street_line2", "street_city", "street_region",
    "street_postal_code", "street_country",
]  # fmt: skip


def details_fingerprint(details: dict[str, str]) -> str:
    """A short stable digest of a contact's details (whitespace at the ends ignored)."""
    canonical = json.dumps(
        {name: (details.get(name) or "").strip() for name in DETAIL_FIELDS}, sort_keys=True
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def any_field_contains(text: str, fields: list[str]) -> Q:
    """A case-insensitive match of text in any of the fields."""
    query = Q()
    for name in fields:
        query |= Q(**{f"{name}__icontains": text})
    return query


class ContactQuerySet[M: "Contact"](models.QuerySet[M]):
    def customers(self) -> Self:
        return self.filter(is_customer=True)

    def suppliers(self) -> Self:
        return self.filter(is_supplier=True)

    def for_tab(self, tab: str) -> Self:
        """The contacts a dashboard tab lists: "sales" shows customers, "purchases" suppliers."""
        if tab == "sales":
            return self.customers()
        if tab == "purchases":
            return self.suppliers()
        raise ValueError(f"Unknown dashboard tab {tab!r}")

    def bulk_create(self, objs: Iterable[M], *args: Any, **kwargs: Any) -> list[M]:
        # Bulk inserts skip save(): fingerprint here too.
        contacts = list(objs)
        for contact in contacts:
            contact.details_fingerprint = contact.fingerprint()
        return super().bulk_create(contacts, *args, **kwargs)

    def search(self, text: str) -> Self:
        text = text.strip()
        if not text:
            return self
        return self.filter(
            any_field_contains(text, ["name", "email", "account_number", "first_name", "last_name"])
        )


class Contact(models.Model):
    """A customer, a supplier, or both, as Cin7 Omni holds it.

    Field lengths follow Xero's Contact limits so that an Omni contact always fits in Xero.
    """

    omni_id = models.PositiveIntegerField(
        "Omni ID", unique=True, null=True, blank=True, help_text="The contact's ID in Cin7 Omni."
    )
    name = models.CharField(max_length=255, help_text="Company or person name, as shown in Xero.")
    first_name = models.CharField(max_length=255, blank=True)
    last_name = models.CharField(max_length=255, blank=True)
    email = models.EmailField(max_length=255, blank=True)
    phone = models.CharField(max_length=50, blank=True)
    account_number = models.CharField(max_length=50, blank=True)
    tax_number = models.CharField(max_length=50, blank=True, help_text="GST, ABN or VAT number.")
    # Omni's CostCenter: the account this contact's transactions' lines go to in Xero, before
    # the transaction type's account mapping. Not a detail of the contact in Xero.
    cost_center = models.CharField(
        "alternative GL account",
        max_length=10,
        blank=True,
        db_default="",  # rows written by code that predates it (older migrations) get blank
        help_text="Omni's cost centre: an account code of the Xero chart its transactions' "
        "lines go to, before the account mapping. Blank: the mapping's (or the line's).",
    )
    # Postal (Xero's POBOX) and street (STREET) addresses; Xero's field limits.
    postal_line1 = models.CharField("postal address line 1", max_length=500, blank=True)
    postal_line2 = models.CharField("postal address line 2", max_length=500, blank=True)
    postal_city = models.CharField("postal city", max_length=255, blank=True)
    postal_region = models.CharField("postal region", max_length=255, blank=True)
    postal_postal_code = models.CharField("postal postal code", max_length=50, blank=True)
    postal_country = models.CharField("postal country", max_length=50, blank=True)
    street_line1 = models.CharField("street address line 1", max_length=500, blank=True)
    street_line2 = models.CharField("street address line 2", max_length=500, blank=True)
    street_city = models.CharField("street city", max_length=255, blank=True)
    street_region = models.CharField("street region", max_length=255, blank=True)
    street_postal_code = models.CharField("street postal code", max_length=50, blank=True)
    street_country = models.CharField("street country", max_length=50, blank=True)
    is_customer = models.BooleanField("customer", default=False)
    is_supplier = models.BooleanField("supplier", default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(
        "last changed", auto_now=True, help_text="When the contact last changed in Omni."
    )
    details_fingerprint = models.CharField(
        max_length=32,
        default="",
        editable=False,
        help_text="A digest of DETAIL_FIELDS, kept by save().",
    )

    objects = ContactQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_customer=True) | Q(is_supplier=True),
                name="contact_is_customer_or_supplier",
                violation_error_message="A contact must be a customer, a supplier, or both.",
            ),
            models.CheckConstraint(condition=~Q(name=""), name="contact_name_not_empty"),
        ]
        indexes = [
            models.Index(fields=["account_number"]),
            # The dashboard's lists in name order, a page at a time (either way).
            models.Index(fields=["name", "id"], name="contact_name_page_idx"),
            # ... and the Errors view's, which ignores case.
            models.Index(Lower("name"), "id", name="contact_lower_name_page_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.details_fingerprint = self.fingerprint()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "details_fingerprint"}
        super().save(*args, **kwargs)

    def details(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in DETAIL_FIELDS}

    def fingerprint(self) -> str:
        """The digest of the contact's details as they are now (saved or not)."""
        return details_fingerprint(self.details())

    @property
    def role(self) -> str:
        if self.is_customer and self.is_supplier:
            return "Customer and supplier"
        return "Customer" if self.is_customer else "Supplier"
