"""The caseload's and the inbox's queries never read a large table end to end.

The queries are the ones the pages really run (captured from a request), explained on a
generated clinic whose statistics are fresh (the generator ANALYZEs), so the planner chooses as
it would at full size for selective lookups: a sequential scan of monitoring items, alerts or
the audit trail here means a missing or unusable index, not a small-table shortcut.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinic.accounts.models import Role, User
from tests.performance.conftest import busiest
from treatments.protocols import add_months

LARGE_TABLES = {"treatments_monitoringitem", "treatments_alert", "audit_accessevent"}


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _sequential_scans(client: Client, url: str) -> list[str]:
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    scans = []
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            sql = query["sql"]
            if not sql.lstrip().upper().startswith("SELECT") or "set_config" in sql:
                continue
            if not any(table in sql for table in LARGE_TABLES):
                continue
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
            raw = cursor.fetchone()[0]
            plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
            scans += [
                f"{node['Relation Name']} in: {sql[:120]}"
                for node in _nodes(plan)
                if node["Node Type"] == "Seq Scan" and node.get("Relation Name") in LARGE_TABLES
            ]
    return scans


@pytest.fixture
def large_clinic(generated_clinic: Callable[..., None]) -> None:
    # Ten teams: one team's patients are a tenth of the clinic, as on a regional service.
    generated_clinic(patients=1000, caseload=50)
    # A trail as long as a working clinic's (one statement), with statistics to match.
    from clinic.audit import services as audit
    from patients.models import Patient

    ids = list(Patient.objects.values_list("id", flat=True))
    audit.record_list(user=None, patient_ids=ids * 20, category="clinical", detail="generated")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE audit_accessevent")


def test_the_caseload_reads_no_large_table_sequentially(
    large_clinic: None, sign_in_generated: Callable[[User], Client]
) -> None:
    client = sign_in_generated(busiest(Role.NEUROLOGIST))
    assert _sequential_scans(client, reverse("caseload:page") + "?scope=teams") == []


def test_the_alert_inbox_reads_no_large_table_sequentially(
    large_clinic: None, sign_in_generated: Callable[[User], Client]
) -> None:
    client = sign_in_generated(busiest(Role.NURSE))
    assert _sequential_scans(client, reverse("alerts:inbox")) == []


def test_the_quality_dashboard_reads_no_large_table_sequentially(
    large_clinic: None, sign_in_generated: Callable[[User], Client]
) -> None:
    # A nurse's team is a tenth of the clinic; twelve months of a long history is a slice.
    client = sign_in_generated(busiest(Role.NURSE))
    url = reverse("quality:dashboard")
    scans = _sequential_scans(client, url)
    # The generator stamps every alert with the moment it ran, so in the default period (the
    # last twelve months) abnormal-result alerts are a large share of the table and reading it
    # whole is the right plan; a year earlier, every table is a thin slice.
    assert [scan for scan in scans if not scan.startswith("treatments_alert ")] == []
    today = timezone.localdate()
    earlier = f"{url}?start={add_months(today, -24):%Y-%m-%d}&end={add_months(today, -12):%Y-%m-%d}"
    assert _sequential_scans(client, earlier) == []
