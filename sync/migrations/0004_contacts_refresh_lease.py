from django.db import migrations, models


class Migration(migrations.Migration):
    # After 0004_linkevent_rename_action, the other 0004: one line of migrations, no merge.
    dependencies = [
        ("sync", "0004_linkevent_rename_action"),
    ]

    operations = [
        migrations.AddField(
            model_name="xeroconnection",
            name="contacts_refresh_lease_until",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
    ]
