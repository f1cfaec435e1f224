"""Trigram indexes for the transactions' search on PostgreSQL (number and reference), where
a search for a few letters anywhere in them otherwise reads every transaction of the type.
Elsewhere (SQLite) nothing is made: the search scans, as before. Without the right to create
the pg_trgm extension the indexes are left out too, and the search still works, on a scan."""

from django.db import DatabaseError, migrations, transaction

SEARCHED = ["number", "reference"]
TABLE = "transactions_transaction"


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
        for column in SEARCHED:
            # UPPER(column::text): what Django's icontains compares on PostgreSQL.
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS transaction_{column}_trgm ON {TABLE} "
                f"USING gin (UPPER({column}::text) gin_trgm_ops)"
            )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for column in SEARCHED:
            cursor.execute(f"DROP INDEX IF EXISTS transaction_{column}_trgm")


class Migration(migrations.Migration):
    dependencies = [("transactions", "0006_problem_index")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
