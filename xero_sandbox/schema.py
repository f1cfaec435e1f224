"""What Xero's spec says of each resource: its property names and text length limits.

Taken from Xero's OpenAPI spec (tests/sandbox/openapi/xero_accounting.yaml, the
`properties` and `maxLength` of each schema); tests in tests/sandbox/ check these
tables against the spec so they cannot drift. The sandbox cannot read the YAML itself
(standard library only).
"""


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


PROPERTIES: dict[str, frozenset[str]] = {
    "Contact": _names(
        """
        ContactID MergedToContactID ContactNumber AccountNumber ContactStatus Name FirstName
        LastName CompanyNumber EmailAddress ContactPersons BankAccountDetails TaxNumber
        TaxNumberType AccountsReceivableTaxType AccountsPayableTaxType Addresses Phones
        IsSupplier IsCustomer SalesDefaultLineAmountType PurchasesDefaultLineAmountType
        DefaultCurrency XeroNetworkKey SalesDefaultAccountCode PurchasesDefaultAccountCode
        SalesTrackingCategories PurchasesTrackingCategories TrackingCategoryName
        TrackingCategoryOption PaymentTerms UpdatedDateUTC ContactGroups Website
        BrandingTheme BatchPayments Discount Balances Attachments HasAttachments
        ValidationErrors HasValidationErrors StatusAttributeString
        """
    ),
    "Invoice": _names(
        """
        Type Contact LineItems Date DueDate LineAmountTypes InvoiceNumber Reference
        BrandingThemeID Url CurrencyCode CurrencyRate Status SentToContact
        ExpectedPaymentDate PlannedPaymentDate CISDeduction CISRate SubTotal TotalTax Total
        TotalDiscount InvoiceID RepeatingInvoiceID HasAttachments IsDiscounted Payments
        Prepayments Overpayments AmountDue AmountPaid FullyPaidOnDate AmountCredited
        UpdatedDateUTC UpdatedDateUTCString CreditNotes Attachments HasErrors
        StatusAttributeString ValidationErrors Warnings InvoiceAddresses
        """
    ),
    "CreditNote": _names(
        """
        Type Contact Date DueDate Status LineAmountTypes LineItems SubTotal TotalTax Total
        CISDeduction CISRate UpdatedDateUTC UpdatedDateUTCString CurrencyCode
        FullyPaidOnDate CreditNoteID CreditNoteNumber Reference SentToContact CurrencyRate
        RemainingCredit Allocations AppliedAmount Payments BrandingThemeID
        StatusAttributeString HasAttachments HasErrors ValidationErrors Warnings
        InvoiceAddresses
        """
    ),
    "PurchaseOrder": _names(
        """
        Contact LineItems Date DeliveryDate LineAmountTypes PurchaseOrderNumber Reference
        BrandingThemeID CurrencyCode Status SentToContact DeliveryAddress AttentionTo
        Telephone DeliveryInstructions ExpectedArrivalDate PurchaseOrderID CurrencyRate
        SubTotal TotalTax Total TotalDiscount HasAttachments UpdatedDateUTC
        StatusAttributeString ValidationErrors Warnings Attachments
        """
    ),
    "Payment": _names(
        """
        Invoice CreditNote Prepayment Overpayment InvoiceNumber CreditNoteNumber BatchPayment
        Account Code Date CurrencyRate Amount BankAmount Reference IsReconciled Status
        PaymentType UpdatedDateUTC UpdatedDateUTCString PaymentID BatchPaymentID
        BankAccountNumber Particulars Details HasAccount HasValidationErrors
        StatusAttributeString ValidationErrors Warnings
        """
    ),
    "Account": _names(
        """
        Code Name AccountID Type BankAccountNumber Status Description BankAccountType
        CurrencyCode TaxType EnablePaymentsToAccount ShowInExpenseClaims Class SystemAccount
        ReportingCode ReportingCodeName HasAttachments UpdatedDateUTC AddToWatchlist
        ValidationErrors
        """
    ),
    "TaxRate": _names(
        """
        Name TaxType TaxComponents Status ReportTaxType CanApplyToAssets CanApplyToEquity
        CanApplyToExpenses CanApplyToLiabilities CanApplyToRevenue DisplayTaxRate
        EffectiveRate
        """
    ),
    "Currency": _names("Code Description"),
    "TrackingCategory": _names("TrackingCategoryID TrackingOptionID Name Option Status Options"),
}

# The text fields the sandbox stores and the most characters each may hold: the spec's
# `maxLength`, plus two the spec leaves out but Xero's invoice page documents
# (https://developer.xero.com/documentation/api/accounting/invoices: Reference "max length
# = 255"; a line item's Description "max length = 4000").
MAX_LENGTH: dict[str, dict[str, int]] = {
    "Contact": {
        "ContactNumber": 50,
        "AccountNumber": 50,
        "Name": 255,
        "FirstName": 255,
        "LastName": 255,
        "CompanyNumber": 50,
        "EmailAddress": 255,
        "TaxNumber": 50,
    },
    "Address": {
        "AddressLine1": 500,
        "AddressLine2": 500,
        "AddressLine3": 500,
        "AddressLine4": 500,
        "City": 255,
        "Region": 255,
        "PostalCode": 50,
        "Country": 50,
        "AttentionTo": 255,
    },
    "Phone": {"PhoneNumber": 50, "PhoneAreaCode": 10, "PhoneCountryCode": 20},
    "Invoice": {"InvoiceNumber": 255, "Reference": 255},
    "CreditNote": {"CreditNoteNumber": 255, "Reference": 255},
    "PurchaseOrder": {"PurchaseOrderNumber": 255, "Reference": 255},
    "LineItem": {"Description": 4000},
    "TrackingCategory": {"Name": 100, "Option": 100},
    "TrackingOption": {"Name": 100},
}
# The limits above the spec does not give: the two from Xero's invoice page, and the
# credit note and purchase order numbers, bounded like InvoiceNumber ([sandbox] guess).
NOT_IN_SPEC = {
    ("Invoice", "Reference"),
    ("CreditNote", "Reference"),
    ("PurchaseOrder", "Reference"),
    ("LineItem", "Description"),
    ("CreditNote", "CreditNoteNumber"),
    ("PurchaseOrder", "PurchaseOrderNumber"),
}
