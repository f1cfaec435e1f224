"""Demo data: a believable Omni account of a New Zealand wholesaler, and two demo logins."""

import json
import random
import secrets
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from contacts.models import Contact
from sync.models import BranchTracking
from sync.roles import ACCOUNTANTS
from transactions.models import (
    LineAmountType,
    LineItem,
    Payment,
    PaymentMethod,
    Transaction,
    TransactionType,
)
from transactions.taxes import TaxType

LOGINS_FILE = settings.VAR_DIR / "demo-logins.json"

CUSTOMERS = [
    "Aroha Gift Store",
    "Bayview Cafe",
    "Kauri Coast Outfitters",
    "Harbourside Deli",
    "Pohutukawa Pharmacy",
    "Riverbend Garden Centre",
    "Southern Alps Sports",
    "Tui Books",
    "Waitemata Wine Bar",
    "Coastal Living Homewares",
    "Manuka Health Shop",
    "Ponsonby Paper Co",
    "Kiwi Corner Dairy",
    "Otago Outdoor Supplies",
    "Seaside Surf Shop",
    "The Little Bakehouse",
    "Ruapehu Ski Hire",
    "Summit Cycles",
    "Greenlane Florist",
    "Taupo Trading Post",
    "Northshore Pet Supplies",
    "Moana Fish Market",
    "Queenstown Souvenirs",
    "Hillcrest Hardware",
    "Nelson Artisan Market",
    "Fernleaf Organics",
    "Raglan Board Riders",
    "Marlborough Cellars",
    "Coromandel Crafts",
    "Mt Eden Music",
    "Waikato Farm Supplies",
    "Wellington Wool Co",
    "Rotorua Relaxation Spa",
    "Napier Art Deco Gifts",
    "Hamilton Home Brew",
    "Dunedin Design Studio",
    "Gisborne Citrus Growers",
    "Kapiti Coast Cafe",
    "Whanganui River Tours",
    "Tasman Bay Traders",
]
# The customer abroad: one invoice in US dollars (refused until multicurrency is on).
FOREIGN_CUSTOMER = "Tasman Bay Traders"
# Omni's cost centre: this supplier's bills go to Freight & Courier whatever the mapping.
COST_CENTRES = {"Southern Cross Freight": "425"}
# The Omni branch whose lines go to Xero with a tracking option of the demo organisation.
TRACKED_BRANCH = ("Wellington", "Region", "Wellington")
SUPPLIERS = [
    "Pacific Packaging Ltd",
    "Southern Cross Freight",
    "Kiwi Coffee Roasters",
    "Aotearoa Textiles",
    "Central Print & Label",
    "Fiordland Timber Products",
    "Canterbury Ceramics",
    "NZ Office Essentials",
    "Auckland Import Agents",
    "Hawke's Bay Orchards",
    "Silver Fern Logistics",
    "Bluff Oyster Co",
    "Tauranga Glassworks",
    "Waipapa Leather Goods",
    "Golden Bay Honey",
    "Kaikoura Stationers",
    "Northland Fuel Distributors",
    "Rangitoto Electrical",
    "Westport Steel Fabrication",
    "Southland Dairy Wholesale",
    "Matamata Paper Mills",
    "Porirua Plastics",
    "Whakatane Wax Co",
    "Levin Linen Supply",
]
# Companies that buy from us and sell to us.
BOTH = ["Harbour Wholesale Collective"]

FIRST_NAMES = [
    "Aroha",
    "James",
    "Mere",
    "Liam",
    "Olivia",
    "Tama",
    "Sophie",
    "Wiremu",
    "Emma",
    "Noah",
    "Hana",
    "Jack",
    "Ava",
    "Manaia",
    "Isla",
    "Oliver",
    "Kiri",
    "Lucas",
]
LAST_NAMES = [
    "Ngata",
    "Smith",
    "Wilson",
    "Tane",
    "Brown",
    "Taylor",
    "Walker",
    "Parata",
    "Thompson",
    "Harris",
    "Cooper",
    "Rangi",
    "King",
    "Clarke",
]
CITIES = [
    ("Auckland", "Auckland", "1010"),
    ("Wellington", "Wellington", "6011"),
    ("Christchurch", "Canterbury", "8011"),
    ("Hamilton", "Waikato", "3204"),
    ("Dunedin", "Otago", "9016"),
    ("Tauranga", "Bay of Plenty", "3110"),
    ("Napier", "Hawke's Bay", "4110"),
    ("Nelson", "Nelson", "7010"),
]
STREETS = [
    "Queen Street",
    "Victoria Street",
    "Main Road",
    "Harbour Drive",
    "Station Road",
    "Kauri Avenue",
    "Beach Road",
    "Church Street",
    "High Street",
    "Marine Parade",
]
SALES_ITEMS = [
    ("Manuka honey 500g", "24.50"),
    ("Merino scarf", "79.00"),
    ("Ceramic mug, glazed", "18.90"),
    ("Gift hamper, large", "149.00"),
    ("Wool throw rug", "189.00"),
    ("Kauri serving board", "64.00"),
    ("Native flora calendar", "22.00"),
    ("Coffee beans 1kg", "42.00"),
]
PURCHASE_ITEMS = [
    ("Cartons, double wall (bundle of 50)", "96.00"),
    ("Freight: Auckland to Christchurch", "340.00"),
    ("Printed labels (roll of 1000)", "58.00"),
    ("Merino yarn, 5kg", "410.00"),
    ("Raw honey drum, 25kg", "520.00"),
    ("Glass jars, case of 48", "77.50"),
]


def _slug(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())[:20]


def _contact(rng: random.Random, name: str, *, customer: bool, supplier: bool, n: int) -> Contact:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    city, region, postcode = rng.choice(CITIES)
    street = f"{rng.randint(1, 480)} {rng.choice(STREETS)}"
    return Contact(
        omni_id=1000 + n,
        name=name,
        first_name=first,
        last_name=last,
        email=f"{first.lower()}@{_slug(name)}.co.nz",
        phone=f"0{rng.choice([3, 4, 6, 7, 9])} {rng.randint(200, 999)} {rng.randint(1000, 9999)}",
        account_number=("C" if customer else "S") + f"{1000 + n}",
        tax_number=f"{rng.randint(10, 139)}-{rng.randint(100, 999)}-{rng.randint(100, 999)}"
        if rng.random() < 0.8
        else "",
        postal_line1=f"PO Box {rng.randint(100, 9999)}",
        postal_city=city,
        postal_region=region,
        postal_postal_code=postcode,
        postal_country="New Zealand",
        street_line1=street,
        street_city=city,
        street_region=region,
        street_postal_code=postcode,
        street_country="New Zealand",
        is_customer=customer,
        is_supplier=supplier,
        cost_center=COST_CENTRES.get(name, ""),
    )


def _transactions(
    rng: random.Random, contact: Contact, kind: str, count: int, start: date
) -> Iterator[tuple[Transaction, list[LineItem]]]:
    items = SALES_ITEMS if kind == "sales" else PURCHASE_ITEMS
    for i in range(count):
        if kind == "sales":
            txn_type = (
                TransactionType.SALES_CREDIT_NOTE if i == 2 else TransactionType.SALES_INVOICE
            )
            account, tax = "200", TaxType.OUTPUT2
        else:
            txn_type = rng.choice(
                [
                    TransactionType.PURCHASE_ORDER,
                    TransactionType.SUPPLIER_INVOICE,
                    TransactionType.SUPPLIER_INVOICE,
                ]
            )
            if i == 2:
                txn_type = TransactionType.SUPPLIER_CREDIT_NOTE
            account, tax = "310", TaxType.INPUT2
        day = start + timedelta(days=rng.randint(0, 60))
        yield (
            Transaction(
                contact=contact,
                type=txn_type,
                number="",  # numbered per type by the caller
                reference=f"Omni order {rng.randint(10000, 99999)}",
                date=day,
                due_date=day + timedelta(days=20),
                line_amount_type=rng.choice(
                    [LineAmountType.EXCLUSIVE] * 3 + [LineAmountType.INCLUSIVE]
                ),
            ),
            [
                LineItem(
                    position=p,
                    description=desc,
                    quantity=Decimal(rng.randint(1, 12)),
                    unit_price=Decimal(price),
                    account_code=account,
                    tax_type=tax,
                )
                for p, (desc, price) in enumerate(rng.sample(items, rng.randint(1, 3)))
            ],
        )


PREFIXES: dict[str, str] = {
    TransactionType.SALES_INVOICE: "INV-",
    TransactionType.SALES_CREDIT_NOTE: "CN-",
    TransactionType.PURCHASE_ORDER: "PO-",
    TransactionType.SUPPLIER_INVOICE: "BILL-",
    TransactionType.SUPPLIER_CREDIT_NOTE: "SCN-",
}


def demo_loaded() -> bool:
    return get_user_model().objects.filter(username="admin").exists()


@transaction.atomic
def load_demo_data(*, seed: int = 7) -> dict[str, str]:
    """Create the demo users, contacts and transactions; return the logins {username: password}."""
    rng = random.Random(seed)
    User = get_user_model()
    logins = {"admin": secrets.token_urlsafe(9), "accountant": secrets.token_urlsafe(9)}
    User.objects.create_superuser(
        "admin", "admin@example.com", logins["admin"], first_name="Ada", last_name="Admin"
    )
    accountant = User.objects.create_user(
        "accountant",
        "accountant@example.com",
        logins["accountant"],
        first_name="Alex",
        last_name="Accountant",
    )
    accountant.groups.add(Group.objects.get(name=ACCOUNTANTS))

    rows = [(name, True, False) for name in CUSTOMERS]
    rows += [(name, False, True) for name in SUPPLIERS]
    rows += [(name, True, True) for name in BOTH]
    contacts = Contact.objects.bulk_create(
        _contact(rng, name, customer=c, supplier=s, n=n) for n, (name, c, s) in enumerate(rows)
    )
    counters: dict[str, int] = dict.fromkeys(PREFIXES, 0)
    start = date.today() - timedelta(days=75)
    pending_lines = []
    txns = []
    for contact in contacts:
        # About a third of the contacts have nothing to sync yet.
        for kind, wanted in (("sales", contact.is_customer), ("purchases", contact.is_supplier)):
            if not wanted or rng.random() < 0.35:
                continue
            for txn, lines in _transactions(rng, contact, kind, rng.randint(1, 4), start):
                counters[txn.type] += 1
                txn.number = f"{PREFIXES[txn.type]}{counters[txn.type]:04d}"
                txns.append(txn)
                pending_lines.append(lines)
    # Transactions of the contacts in the tracked branch's city are that branch's.
    branch, category, option = TRACKED_BRANCH
    for txn in txns:
        if txn.contact.street_city == branch:
            txn.branch = branch
    BranchTracking.objects.create(branch=branch, category=category, option=option)
    foreign = next(c for c in contacts if c.name == FOREIGN_CUSTOMER)
    counters[TransactionType.SALES_INVOICE] += 1
    txns.append(
        Transaction(
            contact=foreign,
            type=TransactionType.SALES_INVOICE,
            number=f"INV-{counters[TransactionType.SALES_INVOICE]:04d}",
            reference="Omni order export USA",
            date=start + timedelta(days=30),
            due_date=start + timedelta(days=50),
            currency="USD",
            currency_rate=Decimal("0.5900"),
        )
    )
    pending_lines.append(
        [
            LineItem(
                description="Manuka honey 500g, export carton of 24",
                quantity=Decimal(4),
                unit_price=Decimal("310.00"),
                account_code="200",
                tax_type=TaxType.NONE,  # an export: no GST
            )
        ]
    )
    Transaction.objects.bulk_create(txns)
    for txn, lines in zip(txns, pending_lines, strict=True):
        for line in lines:
            line.transaction = txn
    LineItem.objects.bulk_create(line for lines in pending_lines for line in lines)
    _payments(txns)
    save_logins(logins)
    return logins


def _payments(txns: list[Transaction]) -> None:
    """A few payments Omni recorded: two invoices paid in full, one in part, a bill paid, a
    refund on a credit note. Each waits until its document is synced to Xero."""
    of_type = {t: [txn for txn in txns if txn.type == t] for t in PREFIXES}
    full, half = Decimal("1"), Decimal("0.5")
    wanted: list[tuple[Transaction, Decimal, str]] = [
        (of_type[TransactionType.SALES_INVOICE][0], full, PaymentMethod.BANK_TRANSFER),
        (of_type[TransactionType.SALES_INVOICE][1], full, PaymentMethod.CARD),
        (of_type[TransactionType.SALES_INVOICE][2], half, PaymentMethod.CASH),
        (of_type[TransactionType.SUPPLIER_INVOICE][0], full, PaymentMethod.BANK_TRANSFER),
        (of_type[TransactionType.SALES_CREDIT_NOTE][0], full, PaymentMethod.BANK_TRANSFER),
    ]
    for n, (txn, share, method) in enumerate(wanted, start=1):
        amount = (txn.totals.total * share).quantize(Decimal("0.01"))
        Payment.objects.create(
            transaction=txn,
            date=txn.date + timedelta(days=7),
            amount=amount,
            method=method,
            reference=f"Omni payment {n:03d}",
        )


def save_logins(logins: dict[str, str]) -> None:
    path = Path(LOGINS_FILE)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(logins, indent=2))
    path.chmod(0o600)


def saved_logins() -> dict[str, str]:
    try:
        logins: dict[str, str] = json.loads(Path(LOGINS_FILE).read_text())
    except (FileNotFoundError, ValueError):
        return {}
    return logins
