"""What every admin makes of values it cannot use (omni_xero.admin_site): the 400 page or the
admin's own form error, never a server error."""

from django.contrib.auth.models import Group

THIRTY_DIGITS = "9" * 30


def test_a_selected_row_that_is_no_id_is_the_400_page_naming_it(admin_client):
    response = admin_client.post(
        "/admin/auth/group/", {"action": "delete_selected", "index": "0", "_selected_action": "x"}
    )

    assert response.status_code == 400
    assert "Selected rows" in response.content.decode()


def test_an_oversized_id_in_a_foreign_key_is_the_forms_own_error(admin_client):
    response = admin_client.post("/admin/sync/contactlink/add/", {"contact": THIRTY_DIGITS})

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


def test_an_oversized_id_in_a_many_to_many_field_is_the_forms_own_error(admin_client):
    response = admin_client.post(
        "/admin/auth/group/add/", {"name": "Auditors", "permissions": THIRTY_DIGITS}
    )

    assert response.status_code == 200
    assert not Group.objects.filter(name="Auditors").exists()


def test_an_empty_to_field_is_no_field(admin_client):
    group = Group.objects.create(name="Auditors")

    response = admin_client.get(f"/admin/auth/group/{group.pk}/delete/?_to_field=")

    assert response.status_code == 200
    assert "Auditors" in response.content.decode()
