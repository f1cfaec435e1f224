"""The demo organisations a fresh sandbox starts with: NZ chart of accounts, NZ GST rates.

Tenant IDs are fixed so a reset never invalidates the app's configuration or a test's
constants; everything else (contacts, transactions) starts empty.
"""

import random
import uuid

DEMO_TENANT_ID = "b6a5e4c2-7d3f-4c1a-9e8b-2f0a1d3c5e71"
HARBOUR_TENANT_ID = "3c9d2e1f-5a4b-4e6d-8c7b-1a2b3c4d5e6f"

DEMO_ORGANISATIONS = [
    (DEMO_TENANT_ID, "Demo Company (NZ)", "DEMO", 5000),
    (HARBOUR_TENANT_ID, "Harbour Wholesale Ltd", "STANDARD", 5000),
]

# (code, name, type, tax type, class) after the default NZ chart a new Xero org gets.
NZ_ACCOUNTS = [
    ("090", "Business Bank Account", "BANK", "NONE", "ASSET"),
    ("091", "Business Savings Account", "BANK", "NONE", "ASSET"),
    ("200", "Sales", "REVENUE", "OUTPUT2", "REVENUE"),
    ("260", "Other Revenue", "REVENUE", "OUTPUT2", "REVENUE"),
    ("270", "Interest Income", "REVENUE", "NONE", "REVENUE"),
    ("300", "Purchases", "DIRECTCOSTS", "INPUT2", "EXPENSE"),
    ("310", "Cost of Goods Sold", "DIRECTCOSTS", "INPUT2", "EXPENSE"),
    ("400", "Advertising", "OVERHEADS", "INPUT2", "EXPENSE"),
    ("404", "Bank Fees", "OVERHEADS", "NONE", "EXPENSE"),
    ("408", "Cleaning", "OVERHEADS", "INPUT2", "EXPENSE"),
    ("412", "Consulting & Accounting", "OVERHEADS", "INPUT2", "EXPENSE"),
    ("420", "Entertainment", "OVERHEADS", "NONE", "EXPENSE"),
    ("425", "Freight & Courier", "OVERHEADS", "INPUT2", "EXPENSE"),
    ("429", "General Expenses", "OVERHEADS", "INPUT2", "EXPENSE"),
    ("433", "Insurance", "OVERHEADS", "INPUT2", "EXPENSE"),
    ("445", "Light, Power, Heating", "OVERHEADS", "INPUT2", "EXPENSE"),
    ("453", "Office Expenses", "OVERHEADS", "INPUT2", "EXPENSE"),
    ("461", "Printing & Stationery", "OVERHEADS", "INPUT2", "EXPENSE"),
    ("469", "Rent", "OVERHEADS", "INPUT2", "EXPENSE"),
    ("473", "Repairs and Maintenance", "OVERHEADS", "INPUT2", "EXPENSE"),
    ("489", "Telephone & Internet", "OVERHEADS", "INPUT2", "EXPENSE"),
    ("493", "Travel - National", "OVERHEADS", "INPUT2", "EXPENSE"),
    ("494", "Travel - International", "OVERHEADS", "NONE", "EXPENSE"),
    ("610", "Accounts Receivable", "CURRENT", "NONE", "ASSET"),
    ("630", "Inventory", "INVENTORY", "NONE", "ASSET"),
    ("710", "Office Equipment", "FIXED", "INPUT2", "ASSET"),
    ("800", "Accounts Payable", "CURRLIAB", "NONE", "LIABILITY"),
    ("820", "GST", "CURRLIAB", "NONE", "LIABILITY"),
    ("960", "Retained Earnings", "EQUITY", "NONE", "EQUITY"),
    ("970", "Owner A Funds Introduced", "EQUITY", "NONE", "EQUITY"),
]

SYSTEM_ACCOUNTS = {"610": "DEBTORS", "800": "CREDITORS", "820": "GST", "960": "RETAINEDEARNINGS"}

# (TaxType, Name, rate %, ReportTaxType, applies to revenue, applies to expenses)
NZ_TAX_RATES = [
    ("OUTPUT2", "15% GST on Income", "15.0000", "OUTPUT", True, False),
    ("INPUT2", "15% GST on Expenses", "15.0000", "INPUT", False, True),
    ("NONE", "No GST", "0.0000", "NONE", True, True),
    ("EXEMPTOUTPUT", "Exempt Income", "0.0000", "EXEMPTOUTPUT", True, False),
    ("EXEMPTINPUT", "Exempt Expenses", "0.0000", "EXEMPTINPUT", False, True),
    ("ZERORATED", "Zero Rated", "0.0000", "ZERORATEDOUTPUT", True, False),
    ("GSTONIMPORTS", "GST on Imports", "0.0000", "GSTONIMPORTS", False, True),
]


def organisation(tenant_id: str, name: str, edition: str, created: float) -> dict:
    """The `Organisation` record Xero returns for a NZ company."""
    return {
        "OrganisationID": tenant_id,
        "APIKey": uuid.uuid5(uuid.NAMESPACE_URL, tenant_id).hex[:30].upper(),
        "Name": name,
        "LegalName": name,
        "PaysTax": True,
        "Version": "NZ",
        "OrganisationType": "COMPANY",
        "BaseCurrency": "NZD",
        "CountryCode": "NZ",
        "IsDemoCompany": edition == "DEMO",
        "OrganisationStatus": "ACTIVE",
        "FinancialYearEndDay": 31,
        "FinancialYearEndMonth": 3,
        "SalesTaxBasis": "PAYMENTS",
        "SalesTaxPeriod": "TWOMONTHS",
        "DefaultSalesTax": "Tax Exclusive",
        "DefaultPurchasesTax": "Tax Exclusive",
        "CreatedDateUTC": created,
        "Timezone": "NEWZEALANDSTANDARDTIME",
        "OrganisationEntityType": "COMPANY",
        "ShortCode": "!" + uuid.uuid5(uuid.NAMESPACE_DNS, tenant_id).hex[:5],
        "Class": edition if edition in ("DEMO", "STARTER", "STANDARD", "PREMIUM") else "STANDARD",
        "Edition": "BUSINESS",
        "LineOfBusiness": "Wholesale",
        "Addresses": [],
        "Phones": [],
        "ExternalLinks": [],
        "PaymentTerms": {},
    }


def accounts(tenant_id: str, now: float) -> list[dict]:
    """The chart of accounts, with AccountIDs stable per organisation."""
    rows = []
    for code, name, kind, tax_type, klass in NZ_ACCOUNTS:
        row = {
            "AccountID": str(uuid.uuid5(uuid.UUID(tenant_id), "account:" + code)),
            "Code": code,
            "Name": name,
            "Status": "ACTIVE",
            "Type": kind,
            "TaxType": tax_type,
            "Class": klass,
            "EnablePaymentsToAccount": False,
            "ShowInExpenseClaims": klass == "EXPENSE",
            "BankAccountType": "BANK" if kind == "BANK" else "",
            "ReportingCode": "",
            "HasAttachments": False,
            "UpdatedDateUTC": now,
            "AddToWatchlist": False,
        }
        if kind == "BANK":
            row["BankAccountNumber"] = "0201230045678" + code[-2:]
            row["CurrencyCode"] = "NZD"
        if code in SYSTEM_ACCOUNTS:
            row["SystemAccount"] = SYSTEM_ACCOUNTS[code]
        rows.append(row)
    return rows


CURRENCY_NAMES = {
    "AUD": "Australian Dollar",
    "CAD": "Canadian Dollar",
    "CNY": "Chinese Yuan",
    "EUR": "Euro",
    "FJD": "Fiji Dollar",
    "GBP": "British Pound",
    "JPY": "Japanese Yen",
    "NZD": "New Zealand Dollar",
    "SGD": "Singapore Dollar",
    "USD": "United States Dollar",
}


def currency(code: str) -> dict[str, str]:
    """A currency as GET /Currencies lists it."""
    return {"Code": code, "Description": CURRENCY_NAMES.get(code, code)}


# The demo organisations' tracking: one category of regions, one option archived.
TRACKING = {
    "Region": [
        ("Auckland", "ACTIVE"),
        ("Wellington", "ACTIVE"),
        ("Christchurch", "ACTIVE"),
        ("Dunedin", "ARCHIVED"),
    ]
}
# The currencies each demo organisation uses beside its base currency (NZD): the demo
# company trades abroad, the wholesaler does not.
FOREIGN_CURRENCIES = {DEMO_TENANT_ID: ["AUD", "USD"]}


def tracking_categories(tenant_id: str) -> dict[str, dict]:
    """The tracking categories by ID, with IDs stable per organisation."""
    space = uuid.UUID(tenant_id)
    categories = {}
    for name, options in TRACKING.items():
        category_id = str(uuid.uuid5(space, "tracking:" + name))
        categories[category_id] = {
            "TrackingCategoryID": category_id,
            "Name": name,
            "Status": "ACTIVE",
            "Options": [
                {
                    "TrackingOptionID": str(uuid.uuid5(space, f"tracking:{name}:{option}")),
                    "Name": option,
                    "Status": status,
                }
                for option, status in options
            ],
        }
    return categories


def tax_rates() -> list[dict]:
    rows = []
    for tax_type, name, rate, report, revenue, expenses in NZ_TAX_RATES:
        rows.append(
            {
                "Name": name,
                "TaxType": tax_type,
                "ReportTaxType": report,
                "CanApplyToAssets": expenses,
                "CanApplyToEquity": expenses,
                "CanApplyToExpenses": expenses,
                "CanApplyToLiabilities": expenses,
                "CanApplyToRevenue": revenue,
                "DisplayTaxRate": float(rate),
                "EffectiveRate": float(rate),
                "Status": "ACTIVE",
                "TaxComponents": [
                    {
                        "Name": "GST",
                        "Rate": float(rate),
                        "IsCompound": False,
                        "IsNonRecoverable": False,
                    }
                ],
            }
        )
    return rows


_FIRST = "Aroha Ben Chloe Daniel Emma Finn Grace Hemi Isla Jack Kiri Liam Mia Noah Olivia Piripi"
_LAST = "Anderson Brown Clarke Davies Evans Fraser Green Harris Irwin Jones King Lee Morris Ngata"
_TRADE = "Plumbing Electrical Builders Traders Supplies Imports Hardware Coffee Textiles Freight"
_TOWNS = ["Auckland", "Wellington", "Christchurch", "Hamilton", "Dunedin", "Napier", "Nelson"]


def generated_contacts(count: int, seed: int = 7) -> list[dict]:
    """`count` distinct, realistic contact bodies (as a client would PUT them)."""
    rng = random.Random(seed)
    first, last, trade = _FIRST.split(), _LAST.split(), _TRADE.split()
    bodies = []
    for n in range(1, count + 1):
        given, family = rng.choice(first), rng.choice(last)
        company = f"{family} {rng.choice(trade)} {n:05d}"
        town = rng.choice(_TOWNS)
        bodies.append(
            {
                "Name": company,
                "FirstName": given,
                "LastName": family,
                "ContactNumber": f"GEN-{n:05d}",
                "EmailAddress": f"{given.lower()}.{family.lower()}{n}@example.co.nz",
                "Addresses": [
                    {
                        "AddressType": "STREET",
                        "AddressLine1": f"{rng.randint(1, 400)} Queen Street",
                        "City": town,
                        "PostalCode": f"{rng.randint(1000, 9999)}",
                        "Country": "New Zealand",
                    }
                ],
                "Phones": [
                    {"PhoneType": "DEFAULT", "PhoneNumber": f"{rng.randint(2000000, 9999999)}"}
                ],
            }
        )
    return bodies
