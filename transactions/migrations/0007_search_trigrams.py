"""Trigram indexes for the searches on PostgreSQL: the contacts' (name, email, account
number, first and last name) and the transactions' (number, reference), where a search for
a few letters anywhere in them otherwise reads every row. The contacts' are made here, the
app that searches contacts through its transactions too. Elsewhere (SQLite) nothing is made:
the searches scan, as before. Without the right to create the pg_trgm extension the indexes
are left out too, and the searches still work, on a scan."""

from django.db import DatabaseError, migrations, transaction

SEARCHED = {
    ("contacts_contact", "contact"): ["name", "email", "account_number", "first_name", "last_name"],
    ("transactions_transaction", "transaction"): ["number", "reference"],
}


def create(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        try:
            with transaction.atomic(using=connection.alias):
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except DatabaseError:
            return
        for (table, prefix), columns in SEARCHED.items():
            for column in columns:
                # UPPER(column::text): what Django's icontains compares on PostgreSQL.
                cursor.execute(
                    f"CREATE INDEX IF NOT EXISTS {prefix}_{column}_trgm ON {table} "
                    f"USING gin (UPPER({column}::text) gin_trgm_ops)"
                )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for (_, prefix), columns in SEARCHED.items():
            for column in columns:
                cursor.execute(f"DROP INDEX IF EXISTS {prefix}_{column}_trgm")


class Migration(migrations.Migration):
    dependencies = [("contacts", "0003_page_indexes"), ("transactions", "0006_problem_index")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
