"""What linked contacts owe, or are owed, as Xero's documents say: added up from the local
copy of the organisation's documents (sync.syncing.discrepancies keeps it, refreshed with
If-Modified-Since and by webhook events), so a balance costs no call of its own and a page
adds up only its own contacts'.

As Xero's own contact Balances: a customer's outstanding is what its approved (AUTHORISED)
sales invoices still have due less the credit its approved sales credit notes have left;
its overdue, what those invoices have due past their due date. A supplier's likewise, of its
bills and supplier credit notes. Overpayments and prepayments are not kept, so they are not
counted."""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Case, DecimalField, Q, Sum, Value, When
from django.db.models.functions import Coalesce

from sync.models import MirroredDocument, XeroConnection

# The Xero document types of each tab's side: its invoices, then its credit notes.
SIDES = {"sales": ("ACCREC", "ACCRECCREDIT"), "purchases": ("ACCPAY", "ACCPAYCREDIT")}
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Balance:
    currency: str  # Xero's documents' own currency: amounts in several are never added up
    outstanding: Decimal
    overdue: Decimal


def balances_of(
    connection: XeroConnection | None,
    tab: str,
    xero_contact_ids: Iterable[uuid.UUID],
    today: date,
) -> dict[uuid.UUID, list[Balance]]:
    """The balances of each of these Xero contacts on the tab's side, one per currency its
    documents are in (one grouped query); a contact with no approved document is left out."""
    wanted = set(xero_contact_ids)
    if connection is None or not wanted:
        return {}
    invoices, credits = SIDES[tab]
    money = DecimalField(max_digits=16, decimal_places=2)

    def summed(condition: Q) -> Coalesce:
        return Coalesce(
            Sum(Case(When(condition, then="amount_due"), default=Value(ZERO), output_field=money)),
            Value(ZERO),
            output_field=money,
        )

    rows = (
        MirroredDocument.objects.filter(
            connection=connection,
            status="AUTHORISED",
            contact_id__in=wanted,
            type__in=[invoices, credits],
        )
        .order_by()
        .values("contact_id", "currency")
        .annotate(
            due=summed(Q(type=invoices)),
            credit=summed(Q(type=credits)),
            overdue=summed(Q(type=invoices, due_date__lt=today)),
        )
    )
    found: dict[uuid.UUID, list[Balance]] = {}
    for row in rows.order_by("currency"):
        balance = Balance(row["currency"], row["due"] - row["credit"], row["overdue"])
        found.setdefault(uuid.UUID(str(row["contact_id"])), []).append(balance)
    return found
