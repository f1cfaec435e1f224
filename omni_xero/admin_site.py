"""The admin site: it gives each admin registered on it (the project's, Django's, the
packages') the same checks of what a request gives, before a value reaches a query."""

from collections.abc import Iterable
from datetime import date, datetime, time
from typing import Any

from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.filters import DateFieldListFilter
from django.contrib.admin.options import ActionLocation, IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Model, QuerySet
from django.forms import ModelChoiceField, ModelMultipleChoiceField
from django.http import HttpRequest, HttpResponse
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.timezone import is_naive, make_aware

from sync.filters import (
    FIRST_DAY,
    LAST_DAY,
    BadParameter,
    ObjectChoice,
    ObjectChoices,
    ObjectIds,
    as_id,
)


def _in_range(day: date) -> None:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise IncorrectLookupParameters(f"{day} is outside {FIRST_DAY}..{LAST_DAY}")


def _moment(text: str) -> datetime:
    """A date filter's value as an aware moment in 2000..2100 (IncorrectLookupParameters:
    the admin's own "wrong filter" answer, otherwise)."""
    try:
        moment = parse_datetime(text)
        if moment is None:
            day = parse_date(text)
            moment = datetime.combine(day, time()) if day else None
    except ValueError as error:
        raise IncorrectLookupParameters(error) from error
    if moment is None:
        raise IncorrectLookupParameters(f"{text!r} is not a date")
    _in_range(moment.date())
    return make_aware(moment) if is_naive(moment) else moment


class CheckedChangeList(ChangeList):
    """A list whose filters hold no NUL, and whose date filters and date drill-down take only
    dates in the range both databases compute with: Django's own ChangeList lets a year of 30
    digits, or 9999, reach int() or the calendar (OverflowError, year 10000), and a date
    without a time reach a DateTimeField as a naive value."""

    def get_filters(self, request: HttpRequest) -> Any:
        # A filter's value goes to the query as it is; PostgreSQL refuses text with a NUL.
        if any("\x00" in str(value) for values in self.params.values() for value in values):
            raise IncorrectLookupParameters("a filter's value holds a NUL character")
        if self.date_hierarchy:
            parts = [
                self.params.get(f"{self.date_hierarchy}__{part}")
                for part in ("year", "month", "day")
            ]
            if parts[0] is not None:
                numbers = [as_id(str(part[-1])) if part else 1 for part in parts]
                if None in numbers:
                    raise IncorrectLookupParameters("the date drill-down takes numbers")
                try:
                    _in_range(date(*numbers))  # type: ignore[arg-type]
                except (ValueError, OverflowError) as error:
                    raise IncorrectLookupParameters(error) from error
        found = super().get_filters(request)
        for spec in found[0]:
            if isinstance(spec, DateFieldListFilter) and isinstance(
                spec.field, models.DateTimeField
            ):
                spec.used_parameters = {
                    key: [_moment(str(value)) for value in _listed(values)]
                    for key, values in spec.used_parameters.items()
                }
        return found


def _listed(values: Any) -> Iterable[Any]:
    return values if isinstance(values, list | tuple) else [values]


def _integer(field: models.Field[Any, Any]) -> bool:
    return isinstance(field, models.IntegerField)


class CheckedParameters[M: Model](admin.ModelAdmin[M]):
    """What Django's admin reads from a request itself, checked before it reaches a query:
    an empty _to_field, the rows an action is given, the ids a form's foreign keys and
    many-to-many fields take, a list's dates. A bad value is the 400 page or the admin's own
    form or filter error."""

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> M | None:
        # An empty _to_field is no field: Django's own check of _to_field lets "" through as
        # not given, then looks "" up as a field name (FieldDoesNotExist).
        return super().get_object(request, object_id, from_field or None)

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return CheckedChangeList

    def response_action(
        self,
        request: HttpRequest,
        queryset: QuerySet[Any],
        action_location: ActionLocation = ActionLocation.CHANGE_LIST,
    ) -> HttpResponse | None:
        if _integer(self.opts.pk):
            name = helpers.ACTION_CHECKBOX_NAME
            selected = request.POST.getlist(name)
            try:
                if len(ObjectIds().clean(selected)) != len(selected):
                    raise ValidationError("A selected row came without its id: select it again.")
            except ValidationError as error:
                raise BadParameter(name, " ".join(error.messages), "Selected rows") from None
        return super().response_action(request, queryset, action_location)

    def formfield_for_foreignkey(
        self, db_field: models.ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField[Any] | None:
        if _integer(db_field.target_field):
            kwargs.setdefault("form_class", ObjectChoice)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(
        self, db_field: models.ManyToManyField[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelMultipleChoiceField[Any] | None:
        related: type[Model] = db_field.remote_field.model  # type: ignore[assignment]
        if _integer(related._meta.pk):  # type: ignore[arg-type]
            kwargs.setdefault("form_class", ObjectChoices)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class Site(admin.AdminSite):
    """admin.site (omni_xero.apps.AdminConfig): every admin registered on it, by this project
    or by Django and the packages (auth's users and groups, axes, django-tasks-db), is given
    CheckedParameters."""

    def register(
        self,
        model_or_iterable: Any,
        admin_class: type[admin.ModelAdmin[Any]] | None = None,
        **options: Any,
    ) -> None:
        base = admin_class or admin.ModelAdmin
        if not issubclass(base, CheckedParameters):
            base = type(base.__name__, (CheckedParameters, base), {"__module__": base.__module__})
        super().register(model_or_iterable, base, **options)
