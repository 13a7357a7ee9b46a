"""Load the code catalogue into ProtocolVersion so plans always find their protocol.

Later catalogue releases are loaded by `manage.py load_catalogue` (idempotent); this migration
only makes a fresh database usable without that step.
"""

from typing import Any

from django.db import migrations


def load(apps: Any, schema_editor: Any) -> None:
    from treatments.catalogue.services import load_catalogue

    load_catalogue(model=apps.get_model("treatments", "ProtocolVersion"))


class Migration(migrations.Migration):
    dependencies = [("treatments", "0003_dmt_plans_and_monitoring")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
