"""Load catalogue version 2026.2 (issue #14's label rules) into a database that already holds
2026.1. A stored version is never rewritten (running plans pin theirs); new plans take 2026.2,
the version loaded last among those in effect. On a fresh database 0004 has loaded it already,
and this does nothing."""

from typing import Any

from django.db import migrations


def load(apps: Any, schema_editor: Any) -> None:
    from treatments.catalogue.services import load_catalogue

    load_catalogue(model=apps.get_model("treatments", "ProtocolVersion"))


class Migration(migrations.Migration):
    dependencies = [("treatments", "0012_one_item_per_duty")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
