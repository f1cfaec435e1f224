"""Reading what a request or a command gives: the one parser of list filters (query strings),
posted ids and command options. A value it cannot use is a BadParameter, which the pages
answer with a 400 naming the value and why, and the commands with a one-line error.

The bounds are what both databases store and compute with: an id fits a signed 64-bit
integer (18 digits), a date lies in 2000..2100, so a day's start in any time zone and the day
after the last one are still dates; text holds no NUL (PostgreSQL refuses it).
"""

import re
from collections.abc import Iterable
from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.http import QueryDict

FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 31)
ID_PATTERN = "[0-9]{1,18}"  # also the path converter's: a longer id is a 404
TOKEN_PATTERN = "[A-Za-z0-9_-]{1,64}"  # an import's token (secrets.token_urlsafe)
SEARCH_LENGTH = 200
_ID = re.compile(rf"\A{ID_PATTERN}\Z")


class BadParameter(Exception):
    """A value a page or command cannot use: its name, a label for people, and why."""

    def __init__(self, name: str, why: str, label: str = "") -> None:
        self.name, self.why, self.label = name, why, label or name
        super().__init__(f"{self.label} ({name}): {why}")


class Day(forms.DateField):
    """A date in the range both databases compute with (see the module's docstring)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("error_messages", {"invalid": self.range_error()})
        super().__init__(**kwargs)
        self.validators += [
            MinValueValidator(FIRST_DAY, self.range_error()),
            MaxValueValidator(LAST_DAY, self.range_error()),
        ]

    @staticmethod
    def range_error() -> str:
        return f"Give a date from {FIRST_DAY:%d %b %Y} to {LAST_DAY:%d %b %Y} (YYYY-MM-DD)."


class Search(forms.CharField):
    """Text typed into a search box (NUL is refused by CharField itself)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", SEARCH_LENGTH)
        kwargs.setdefault(
            "error_messages",
            {"max_length": f"Search for at most {SEARCH_LENGTH} characters."},
        )
        super().__init__(**kwargs)


def _id_error(text: str) -> str:
    return f"{_shown(text)} is not an id: give a number of 1 to 18 digits."


class ObjectId(forms.CharField):
    """One id: up to 18 digits 0-9 (int() would take "²" and then fail, or overflow later)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, value: Any) -> int | None:
        text = super().clean(value)
        if not text:
            return None
        if not _ID.match(text):
            raise ValidationError(_id_error(text))
        return int(text)


class XeroId(forms.UUIDField):
    """A Xero object's id, as a page posts the one picked: a UUID, or nothing."""

    default_error_messages = {
        "invalid": "It is not a Xero id: pick the contact from the Search column again."
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)


class ObjectIds(forms.Field):
    """A list of ids, as checked rows post them (name=contact, once per row)."""

    widget = forms.MultipleHiddenInput

    def clean(self, value: Any) -> list[int]:
        texts = [str(one).strip() for one in value or []]
        wrong = [text for text in texts if text and not _ID.match(text)]
        if wrong:
            raise ValidationError(_id_error(wrong[0]))
        return [int(text) for text in texts if text]


class Page(forms.IntegerField):
    """A page number of a list (a page past the end shows the last)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 10**9)
        kwargs.setdefault("label", "Page")
        kwargs.setdefault(
            "error_messages",
            {
                "invalid": "Give a page number: 1, 2, 3...",
                "min_value": "Give a page number: 1, 2, 3...",
                "max_value": "There are not that many pages.",
            },
        )
        super().__init__(**kwargs)


def choice(values: Iterable[str], label: str) -> forms.ChoiceField:
    """One of these values, or none (""): anything else is refused."""
    return forms.ChoiceField(
        choices=[("", ""), *((value, value) for value in values)],
        required=False,
        label=label,
        error_messages={
            "invalid_choice": "That is not one of the choices offered: pick one from the list."
        },
    )


class Filters(forms.Form):
    """A list's filters read from a query string; read() gives the values or raises
    BadParameter for the first one it cannot use."""

    page = Page()

    @classmethod
    def read(cls, params: QueryDict, **kwargs: Any) -> dict[str, Any]:
        form = cls(params, **kwargs)
        if not form.is_valid():
            raise form_error(form)
        return form.cleaned_data


def one(field: forms.Field, data: QueryDict, name: str) -> Any:
    """One value read through a field of this module (a form of one field)."""
    try:
        return field.clean(field.widget.value_from_datadict(data, {}, name))
    except ValidationError as error:
        raise BadParameter(name, " ".join(error.messages), str(field.label or name)) from None


def form_error(form: forms.BaseForm) -> BadParameter:
    """The first field error of a bound, invalid form as a BadParameter."""
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        label = str(field.label) if field is not None and field.label else name
        return BadParameter(name, " ".join(str(error) for error in errors), label)
    return BadParameter("?", "The request could not be read.")


def object_ids(texts: Iterable[str], name: str = "id") -> list[int]:
    """Ids given as text (a command's option): BadParameter unless each is 1 to 18 digits and
    there is at least one (an option naming none is a mistake, never "all of them")."""
    try:
        ids = ObjectIds().clean(list(texts))
    except ValidationError as error:
        raise BadParameter(name, " ".join(error.messages)) from None
    if not ids:
        raise BadParameter(name, "It names no id.")
    return ids


def as_id(text: str) -> int | None:
    """The id this text is, or None when it is not one (1 to 18 digits 0-9)."""
    return int(text) if _ID.match(text) else None


def ids_posted(data: QueryDict, name: str) -> list[int]:
    """The ids checked rows post under one name (contact=4&contact=8)."""
    return one(ObjectIds(label=name), data, name)  # type: ignore[no-any-return]


def plain_text(text: str, name: str, *, max_length: int = SEARCH_LENGTH) -> str:
    """Text both databases store: no NUL, and not longer than max_length."""
    if "\x00" in text:
        raise BadParameter(name, "It holds a NUL character, which cannot be stored.")
    if len(text) > max_length:
        raise BadParameter(name, f"Give at most {max_length} characters.")
    return text


def _shown(text: str) -> str:
    """A value quoted in a message, cut short and without control characters."""
    clean = "".join(c if c.isprintable() else "?" for c in text)
    return repr(clean if len(clean) <= 30 else clean[:30] + "…")


class IdConverter:
    """<id:pk> in a path: at most 18 digits, so a longer id is a 404, never an integer the
    databases cannot hold. Registered once, by the app (SyncConfig.ready)."""

    regex = ID_PATTERN

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


class TokenConverter:
    """<token:token> in a path: the characters of an import's token only (no NUL, no 10,000
    characters to look up)."""

    regex = TOKEN_PATTERN

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class ObjectChoice(forms.ModelChoiceField):  # type: ignore[type-arg]
    """A form's choice of one object by its integer id (a foreign key in the admin): anything
    but 1 to 18 digits is the field's own error before any query (the database would refuse
    it: "int too large", "expected a number"), and is not shown back to be looked up again."""

    def to_python(self, value: Any) -> Any:
        if value not in self.empty_values and as_id(str(value)) is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)

    def bound_data(self, data: Any, initial: Any) -> Any:
        return data if data in self.empty_values or as_id(str(data)) is not None else None


class ObjectChoices(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    """A form's choice of several objects by their integer ids (many-to-many in the admin),
    checked as ObjectChoice checks one."""

    def clean(self, value: Any) -> Any:
        for text in value if isinstance(value, list | tuple) else []:
            if as_id(str(text)) is None:
                raise ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": _shown(str(text))},
                )
        return super().clean(value)

    def bound_data(self, data: Any, initial: Any) -> Any:
        return [text for text in data or [] if as_id(str(text)) is not None]
