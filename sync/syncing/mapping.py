"""The Admin tab's settings of an organisation: how documents are created, when syncs run by
themselves, and the account mapping per transaction type, checked against the chart of
accounts and the tax rates fetched from Xero."""

from typing import Any

from django import forms
from django.db import transaction
from django.db.models import QuerySet

from sync.models import AccountMapping, ChartAccount, SyncSettings, TaxRate, XeroConnection
from transactions.models import TransactionType


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


class SyncSettingsForm(forms.ModelForm[SyncSettings]):
    class Meta:
        model = SyncSettings
        fields = ["document_status", "autosync"]


class AccountMappingForm(forms.ModelForm[AccountMapping]):
    """One transaction type's mapping; blank fields keep each line's own code."""

    class Meta:
        model = AccountMapping
        fields = ["account_code", "tax_type"]
        # Suggestions from the fetched accounts and tax rates (datalists on the page).
        widgets = {
            "account_code": forms.TextInput(attrs={"list": "account-codes"}),
            "tax_type": forms.TextInput(attrs={"list": "tax-types"}),
        }

    def __init__(self, *args: Any, connection: XeroConnection, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connection = connection

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
    settings_form = SyncSettingsForm(data, instance=SyncSettings.for_connection(connection))
    existing = {m.transaction_type: m for m in AccountMapping.objects.filter(connection=connection)}
    mappings = [
        (
            label,
            AccountMappingForm(
                data,
                prefix=value,
                connection=connection,
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
