"""One query gives a page of patients and the total, with Paginator's page semantics; a page
whose rows come with related rows joins only the page's rows, in that one query too."""

from __future__ import annotations

import pytest

from clinic.paging import get_page
from patients.models import Patient
from tests.factories import PatientFactory


@pytest.fixture
def seven_patients(team_a):
    for index in range(7):
        PatientFactory(care_team=team_a, family_name=f"Patient{index}")
    return Patient.objects.order_by("family_name")


# The inbox's way: the rows' related rows (select_related) and only the columns shown.
JOINED = {"related": ("care_team",), "fields": ("family_name", "care_team__name")}
BOTH_WAYS = pytest.mark.parametrize("joined", [{}, JOINED], ids=["counted-by-window", "joined"])


@BOTH_WAYS
@pytest.mark.parametrize(
    ("number", "shown", "page_number"),
    [
        ("1", 3, 1),
        ("3", 1, 3),
        (None, 3, 1),
        ("x", 3, 1),
        ("0", 3, 1),
        ("99", 1, 3),
        # Not a plain ASCII number: the first page (int() of these fails or means something else).
        ("²", 3, 1),
        ("٣", 3, 1),
        ("-1", 3, 1),
        # Past the end, however far: the last page, and no OFFSET beyond PostgreSQL's bigint.
        ("99999999999999999999", 1, 3),
        ("9" * 5000, 1, 3),
    ],
)
def test_a_page_knows_the_total_and_its_place(
    seven_patients, number, shown, page_number, joined, django_assert_num_queries
):
    page = get_page(seven_patients, number, 3, **joined)
    assert len(page.object_list) == shown
    assert page.number == page_number
    assert page.paginator.count == 7
    assert page.paginator.num_pages == 3
    assert page.has_next() == (page_number < 3)


@BOTH_WAYS
def test_the_page_and_its_total_are_one_query(seven_patients, joined, django_assert_num_queries):
    with django_assert_num_queries(1):
        page = get_page(seven_patients, "2", 3, **joined)
        assert [p.family_name for p in page] == ["Patient3", "Patient4", "Patient5"]
        assert page.paginator.num_pages == 3


def test_a_joined_page_keeps_the_order_and_brings_the_related_rows(
    seven_patients, team_a, django_assert_num_queries
):
    newest_first = seven_patients.order_by("-family_name")
    with django_assert_num_queries(1):
        page = get_page(newest_first, "1", 3, **JOINED)
        assert [(p.family_name, p.care_team.name) for p in page] == [
            ("Patient6", team_a.name),
            ("Patient5", team_a.name),
            ("Patient4", team_a.name),
        ]
        assert page.paginator.count == 7


@BOTH_WAYS
def test_an_empty_list_is_one_empty_page(joined, django_assert_num_queries):
    page = get_page(Patient.objects.none(), "1", 3, **joined)
    assert list(page) == []
    assert page.paginator.num_pages == 1
