"""One query gives a page of patients and the total, with Paginator's page semantics."""

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
    seven_patients, number, shown, page_number, django_assert_num_queries
):
    page = get_page(seven_patients, number, 3)
    assert len(page.object_list) == shown
    assert page.number == page_number
    assert page.paginator.count == 7
    assert page.paginator.num_pages == 3
    assert page.has_next() == (page_number < 3)


def test_the_page_and_its_total_are_one_query(seven_patients, django_assert_num_queries):
    with django_assert_num_queries(1):
        page = get_page(seven_patients, "2", 3)
        assert [p.family_name for p in page] == ["Patient3", "Patient4", "Patient5"]
        assert page.paginator.num_pages == 3


def test_an_empty_list_is_one_empty_page(django_assert_num_queries):
    page = get_page(Patient.objects.none(), "1", 3)
    assert list(page) == []
    assert page.paginator.num_pages == 1


def test_a_costly_list_finds_its_page_by_id_and_reads_only_those_rows(
    seven_patients, django_assert_num_queries
):
    asked: list[list[int]] = []

    def fetch(ids):
        asked.append(ids)
        return Patient.objects.filter(pk__in=ids).order_by("-family_name")  # any order

    with django_assert_num_queries(2):
        page = get_page(seven_patients, "2", 3, fetch=fetch)
        assert [p.family_name for p in page] == ["Patient3", "Patient4", "Patient5"]
    assert len(asked[0]) == 3
    assert page.paginator.count == 7
    assert page.number == 2


def test_a_row_gone_before_it_was_read_is_left_out(seven_patients):
    page = get_page(
        seven_patients,
        "1",
        3,
        fetch=lambda ids: Patient.objects.filter(pk__in=ids).exclude(family_name="Patient1"),
    )
    assert [p.family_name for p in page] == ["Patient0", "Patient2"]
    assert page.paginator.count == 7


def test_a_costly_list_past_its_end_is_its_last_page(seven_patients):
    page = get_page(seven_patients, "99", 3, fetch=lambda ids: Patient.objects.filter(pk__in=ids))
    assert [p.family_name for p in page] == ["Patient6"]
    assert page.number == 3


def test_an_empty_costly_list_reads_no_rows():
    page = get_page(Patient.objects.none(), "1", 3, fetch=lambda ids: 1 / 0)  # never called
    assert list(page) == []
    assert page.paginator.num_pages == 1
