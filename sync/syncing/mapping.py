"""The Admin tab's settings of an organisation: how documents are created, when syncs run by
themselves, the account payments go into, and the account mapping per transaction type,
checked against the chart of accounts and the tax rates fetched from Xero."""

from typing import Any

from django import forms
from django.db import transaction
from django.db.models import QuerySet

from sync import xero
from sync.models import (
    AUTOSYNC_TYPES,
    AccountMapping,
    BranchOrganisation,
    BranchTracking,
    ChartAccount,
    SyncSettings,
    TaxRate,
    TrackingCategory,
    XeroConnection,
)
from sync.syncing.payments import payment_account_problem
from sync.syncing.refusals import TrackingRules
from transactions.models import SALES_TYPES, TransactionType

DASH = "\N{EM DASH}"


def mapping_errors(
    *, connection: XeroConnection, account_code: str, tax_type: str
) -> dict[str, str]:
    """Why Xero would refuse this mapping, per field (empty: it would not)."""
    checks: list[tuple[str, str, QuerySet[Any], str, str, str]] = [
        (
            "account_code",
            account_code,
            ChartAccount.objects.filter(connection=connection),
            "code",
            "Account code {!r} is not in the organisation's chart of accounts",
            "Account {} is archived in Xero: choose an active account.",
        ),
        (
            "tax_type",
            tax_type,
            TaxRate.objects.filter(connection=connection),
            "tax_type",
            "Tax type {!r} is not one of the organisation's tax rates",
            "Tax rate {} is not active in Xero: choose an active one.",
        ),
    ]
    errors = {}
    for field, value, rows, key, missing, inactive in checks:
        if not value:
            continue
        row = rows.filter(**{key: value}).first()
        if row is None:
            fetched = rows.exists()
            errors[field] = missing.format(value) + (
                "." if fetched else ": fetch the accounts and tax rates from Xero first."
            )
        elif not row.is_active:
            errors[field] = inactive.format(row)
    return errors


def cost_center_errors(*, account_code: str) -> list[str]:
    """Why a contact's alternative account (Omni's cost centre) would be refused, in each
    connected organisation whose chart has been fetched (the mapping's own check)."""
    errors = []
    for connection in XeroConnection.objects.usable():
        if not ChartAccount.objects.filter(connection=connection).exists():
            continue
        found = mapping_errors(connection=connection, account_code=account_code, tax_type="")
        if "account_code" in found:
            errors.append(f"{connection.organisation_name}: {found['account_code']}")
    return errors


def branch_tracking_errors(*, branch: str, category: str, option: str) -> list[str]:
    """Why a branch's tracking would refuse its transactions: checked in the branch's
    organisation (or each connected one, for a branch not mapped to one) whose tracking
    has been fetched, by the sync's own rule."""
    mapped = BranchOrganisation.objects.filter(branch=branch).values("connection")
    connections = XeroConnection.objects.usable()
    if mapped.exists():
        connections = connections.filter(pk__in=mapped)
    errors = []
    for connection in connections:
        if not TrackingCategory.objects.filter(connection=connection).exists():
            continue
        problem = TrackingRules.load(connection).problem(
            xero.LineTracking(category=category, option=option)
        )
        if problem:
            errors.append(f"{connection.organisation_name}: {problem}")
    return errors


def branch_tracking_problems(*, connection: XeroConnection) -> list[tuple[BranchTracking, str]]:
    """Every branch's tracking, with why Xero would refuse it in this organisation ("":
    it would not, or the tracking has not been fetched yet); 3 queries."""
    rules = TrackingRules.load(connection)
    return [
        (
            chosen,
            (rules.problem(xero.LineTracking(chosen.category, chosen.option)) or "")
            if rules.categories
            else "",
        )
        for chosen in BranchTracking.objects.all()
    ]


def mapping_problems(*, connection: XeroConnection) -> dict[str, str]:
    """For each transaction type whose saved mapping Xero would refuse now, why."""
    problems = {}
    for mapping in AccountMapping.objects.filter(connection=connection):
        errors = mapping_errors(
            connection=connection, account_code=mapping.account_code, tax_type=mapping.tax_type
        )
        if errors:
            problems[mapping.transaction_type] = " ".join(errors.values())
    return problems


def tax_type_warning(*, transaction_type: str, rate: TaxRate) -> str:
    """Why a tax rate does not suit a transaction type's documents, from what Xero says the
    rate applies to (CanApplyToRevenue, CanApplyToExpenses): a tax on purchases (an input
    tax) on sales, or a tax on sales (an output tax) on purchases. Empty when it suits, or
    when Xero has not said (rates fetched before omni-xero kept it: fetch them again)."""
    if transaction_type in SALES_TYPES:
        if rate.can_apply_to_revenue is False:
            return f"{rate} is a tax on purchases, not sales: Xero refuses it on sales lines."
    elif rate.can_apply_to_expenses is False:
        return f"{rate} is a tax on sales, not purchases: Xero refuses it on purchase lines."
    return ""


def mapping_warnings(*, connection: XeroConnection) -> dict[str, str]:
    """For each transaction type whose mapped tax rate does not suit its documents, why."""
    rates = {rate.tax_type: rate for rate in TaxRate.objects.filter(connection=connection)}
    warnings = {}
    for mapping in AccountMapping.objects.filter(connection=connection).exclude(tax_type=""):
        rate = rates.get(mapping.tax_type)
        warning = rate and tax_type_warning(transaction_type=mapping.transaction_type, rate=rate)
        if warning:
            warnings[mapping.transaction_type] = warning
    return warnings


class SyncSettingsForm(forms.ModelForm[SyncSettings]):
    autosync_types = forms.MultipleChoiceField(
        label="Types synced automatically",
        choices=AUTOSYNC_TYPES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every type.",
    )

    class Meta:
        model = SyncSettings
        fields = [
            "document_status",
            "autosync",
            "autosync_types",
            "autosync_at",
            "autosync_alert_email",
            "payment_account_code",
            "multicurrency",
        ]
        # Choices from the fetched chart (see __init__); the field stays text, so that a
        # value not offered gets payment_account_problem's reason.
        widgets = {
            "payment_account_code": forms.Select(),
            "autosync_at": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }

    def __init__(self, *args: Any, accounts: list[ChartAccount] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if accounts is None:
            accounts = list(ChartAccount.objects.filter(connection=self.instance.connection))
        offered = [
            (a.code, f"{a.code} {DASH} {a.name}")
            for a in accounts
            if a.code and a.is_active and a.accepts_payments
        ]
        current = str(self["payment_account_code"].value() or "").strip()
        if current and current not in dict(offered):
            offered = [(current, f"{current} (does not accept payments)"), *offered]
        self.fields["payment_account_code"].widget.choices = [("", "Not chosen"), *offered]

    def clean_payment_account_code(self) -> str:
        code = (self.cleaned_data.get("payment_account_code") or "").strip()
        problem = code and payment_account_problem(connection=self.instance.connection, code=code)
        if problem:
            raise forms.ValidationError(problem)
        return code


class AccountMappingForm(forms.ModelForm[AccountMapping]):
    """One transaction type's mapping; blank fields keep each line's own code."""

    class Meta:
        model = AccountMapping
        fields = ["account_code", "tax_type"]
        # Choices from the fetched accounts and tax rates, set per form (see __init__); the
        # fields stay text, so that a value not offered gets mapping_errors' reason.
        widgets = {"account_code": forms.Select(), "tax_type": forms.Select()}

    def __init__(
        self,
        *args: Any,
        connection: XeroConnection,
        accounts: list[ChartAccount] | None = None,
        tax_rates: list[TaxRate] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.connection = connection
        if accounts is None:
            accounts = list(ChartAccount.objects.filter(connection=connection))
        if tax_rates is None:
            tax_rates = list(TaxRate.objects.filter(connection=connection))
        of_type = self.instance.transaction_type
        account_choices = [
            (a.code, f"{a.code} {DASH} {a.name}") for a in accounts if a.is_active and a.code
        ]
        tax_choices = []
        for rate in tax_rates:
            if rate.is_active:
                unsuitable = tax_type_warning(transaction_type=of_type, rate=rate)
                note = " (not for these documents)" if unsuitable else ""
                tax_choices.append((rate.tax_type, f"{rate.tax_type} {DASH} {rate.name}{note}"))
        self._offer("account_code", account_choices, {a.code: a for a in accounts})
        self._offer("tax_type", tax_choices, {t.tax_type: t for t in tax_rates})

    def _offer(self, name: str, choices: list[tuple[str, str]], known: dict[str, Any]) -> None:
        """The field's options: blank (each line's own code), the active ones, and the value
        saved or posted when it is not among them, said as it is (archived, unknown)."""
        current = str(self[name].value() or "").strip()
        if current and current not in dict(choices):
            row = known.get(current)
            said = (
                f"{current} {DASH} {row.name} (not active)" if row else f"{current} (not in Xero)"
            )
            choices = [(current, said), *choices]
        blank = "Each line's own account" if name == "account_code" else "Each line's own tax type"
        self.fields[name].widget.choices = [("", blank), *choices]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name, message in mapping_errors(
            connection=self.connection,
            account_code=(cleaned.get("account_code") or "").strip(),
            tax_type=(cleaned.get("tax_type") or "").strip(),
        ).items():
            self.add_error(name, message)
        return cleaned


def settings_forms(
    connection: XeroConnection, data: Any = None
) -> tuple[SyncSettingsForm, list[tuple[str, AccountMappingForm]]]:
    """The settings form and one mapping form per transaction type (label, form)."""
    existing = {m.transaction_type: m for m in AccountMapping.objects.filter(connection=connection)}
    accounts = list(ChartAccount.objects.filter(connection=connection))
    settings_form = SyncSettingsForm(
        data, instance=SyncSettings.for_connection(connection), accounts=accounts
    )
    tax_rates = list(TaxRate.objects.filter(connection=connection))
    mappings = [
        (
            label,
            AccountMappingForm(
                data,
                prefix=value,
                connection=connection,
                accounts=accounts,
                tax_rates=tax_rates,
                instance=existing.get(value)
                or AccountMapping(connection=connection, transaction_type=value),
            ),
        )
        for value, label in TransactionType.choices
    ]
    return settings_form, mappings


def sync_settings_save(
    *, settings_form: SyncSettingsForm, mapping_forms: list[AccountMappingForm]
) -> None:
    """Save valid forms at once: a mapping left blank is removed (lines keep their codes)."""
    with transaction.atomic():
        settings_form.save()
        for form in mapping_forms:
            account_mapping_save(mapping=form.instance)


def account_mapping_save(*, mapping: AccountMapping) -> None:
    """Keep a mapping as checked (its codes without surrounding spaces); one left blank is
    removed, and the lines then go with their own codes."""
    mapping.account_code = mapping.account_code.strip()
    mapping.tax_type = mapping.tax_type.strip()
    if mapping.account_code or mapping.tax_type:
        mapping.save()
    elif mapping.pk:
        mapping.delete()
