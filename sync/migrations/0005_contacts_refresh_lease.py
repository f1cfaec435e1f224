from django.db import migrations, models


class Migration(migrations.Migration):
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
