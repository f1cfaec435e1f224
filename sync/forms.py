"""Forms of the Xero dashboard."""

import uuid

from django import forms

from . import xero


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

    def __init__(self, *args, tenants: list[xero.Tenant], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tenant_id"].choices = [(str(t.tenant_id), t.name) for t in tenants]
        if tenants:
            self.fields["tenant_id"].initial = str(tenants[0].tenant_id)
