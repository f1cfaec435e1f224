"""The Contact admin's django-import-export resource for Xero's contacts export.

Reading, row checks and matching to Omni contacts are sync.imports.xero_export's (through the
format in sync.imports.export_format); a row with a problem is an invalid row, with the
spreadsheet's row number. On the confirmed (not dry) run the plan is written and its
unambiguous rows linked by sync.imports.services, as the dashboard's import does, in import-export's
one transaction.
"""

from copy import copy
from typing import Any

import tablib
from django.core.exceptions import ValidationError
from import_export.resources import ModelResource
from import_export.results import Result, RowResult

from contacts.models import Contact
from sync.imports.export_format import FIELDS, ROW, contacts_file_of
from sync.imports.services import contacts_import_plan_confirm
from sync.imports.xero_export import COLUMN_LABELS, ImportPlan, PlannedRow, import_plan
from sync.models import ContactImport, XeroConnection


class XeroImportResult(Result):  # type: ignore[misc]
    """A result whose invalid rows carry the spreadsheet's row numbers (the header is row 1),
    and, once confirmed, the import it recorded."""

    contact_import: ContactImport | None = None

    def append_invalid_row(
        self, number: int, row: dict[str, Any], validation_error: ValidationError
    ) -> None:
        super().append_invalid_row(int(row[ROW]), row, validation_error)


class XeroExportResource(ModelResource):  # type: ignore[misc]
    class Meta:
        model = Contact
        fields = [*FIELDS, "is_customer", "is_supplier"]
        import_id_fields = ["name"]
        name = "Omni contacts from a Xero export"

    def __init__(
        self,
        *,
        customers: bool = True,
        suppliers: bool = False,
        details: list[str] | None = None,
        connection: XeroConnection | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.customers, self.suppliers, self.connection = customers, suppliers, connection
        self.details = list(details or [])  # none: Link only, as on the dashboard
        self.plan: ImportPlan | None = None
        self.planned: dict[int, PlannedRow] = {}
        self.problems: dict[int, list[str]] = {}
        self.dry_run = True

    def get_result_class(self) -> type[Result]:
        return XeroImportResult

    def get_diff_headers(self) -> list[str]:
        """Xero's column names where a field is read from one."""
        return [
            COLUMN_LABELS.get(field.attribute)
            or str(getattr(Contact._meta.get_field(field.attribute), "verbose_name", ""))
            for field in self.get_import_fields()
        ]

    def import_data(self, dataset: tablib.Dataset, dry_run: bool = False, **kwargs: Any) -> Any:
        self.dry_run = dry_run
        return super().import_data(dataset, dry_run=dry_run, **kwargs)

    def before_import(self, dataset: tablib.Dataset, **kwargs: Any) -> None:
        self.plan = import_plan(
            contacts_file_of(dataset),
            customers=self.customers,
            suppliers=self.suppliers,
            details=self.details,
        )
        self.planned = {row.row: row for row in self.plan.rows}
        for problem in self.plan.problems:
            self.problems.setdefault(problem.row, []).append(problem.message)

    def import_row(self, row: dict[str, Any], instance_loader: Any, **kwargs: Any) -> RowResult:
        """What the plan does with the row; nothing is written here (see after_import)."""
        result = self.get_row_result_class()()
        number = int(row[ROW])
        if number in self.problems:
            result.import_type = RowResult.IMPORT_TYPE_INVALID
            result.validation_error = ValidationError(self.problems[number])
            return result
        planned = self.planned[number]
        after = copy(planned.contact)
        for name, (_, new) in planned.changes.items():
            setattr(after, name, True if name.startswith("is_") else new)
        diff = self.get_diff_class()(self, planned.contact, planned.is_new)
        diff.compare_with(self, after)
        result.diff = diff.as_html()
        if planned.is_new:
            result.import_type = RowResult.IMPORT_TYPE_NEW
        elif planned.changes:
            result.import_type = RowResult.IMPORT_TYPE_UPDATE
        else:
            result.import_type = RowResult.IMPORT_TYPE_SKIP
        # The contact import_apply saves, so that the admin log names it once it is saved.
        result.instance = planned.contact
        result.object_repr = planned.contact.name
        return result

    def after_import(self, dataset: tablib.Dataset, result: Result, **kwargs: Any) -> None:
        if self.dry_run or self.plan is None or result.has_errors():
            return
        if result.has_validation_errors():
            return  # a row turned bad since the preview: import-export rolls back
        result.contact_import = contacts_import_plan_confirm(
            user=kwargs["user"],
            connection=self.connection,
            file_name=str(kwargs.get("file_name") or ""),
            plan=self.plan,
            customers=self.customers,
            suppliers=self.suppliers,
            details=self.details,
        )
        for row in result.rows:
            if row.instance is not None:
                row.object_id = row.instance.pk
        super().after_import(dataset, result, **kwargs)
