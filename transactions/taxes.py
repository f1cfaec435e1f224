"""The tax types a transaction line may carry, with their rates.

These are Xero's New Zealand TaxType codes, the demo organisation's; the rate is what Omni
uses to show totals before Xero has the transaction (Xero computes its own on upload).
"""

from decimal import Decimal

from django.db import models


class TaxType(models.TextChoices):
    OUTPUT2 = "OUTPUT2", "15% GST on Income"
    INPUT2 = "INPUT2", "15% GST on Expenses"
    ZERORATEDOUTPUT = "ZERORATEDOUTPUT", "Zero Rated Income"
    EXEMPTOUTPUT = "EXEMPTOUTPUT", "GST Exempt Income"
    EXEMPTINPUT = "EXEMPTINPUT", "GST Exempt Expenses"
    NONE = "NONE", "No GST"


RATES: dict[str, Decimal] = {
    TaxType.OUTPUT2: Decimal("0.15"),
    TaxType.INPUT2: Decimal("0.15"),
    TaxType.ZERORATEDOUTPUT: Decimal("0"),
    TaxType.EXEMPTOUTPUT: Decimal("0"),
    TaxType.EXEMPTINPUT: Decimal("0"),
    TaxType.NONE: Decimal("0"),
}
