"""Forms of the Xero dashboard."""

import uuid
from typing import Any

from django import forms

from sync import xero


class OrganisationChoiceForm(forms.Form):
    """Pick one of the organisations a Xero sign-in covered."""

    tenant_id = forms.TypedChoiceField(
        label="Organisation",
        coerce=uuid.UUID,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Pick one of the organisations listed.",
            "invalid_choice": "Pick one of the organisations listed.",
        },
    )

    def __init__(self, *args: Any, tenants: list[xero.Tenant], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["tenant_id"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [(str(t.tenant_id), t.name) for t in tenants]
        if tenants:
            field.initial = str(tenants[0].tenant_id)
