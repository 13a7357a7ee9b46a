"""Every form is drawn by one include (templates/includes/form.html): what it promises to a
screen-reader user and to someone who typed too much holds for all of them at once."""

from __future__ import annotations

import re

from django import forms
from django.template.loader import render_to_string
from django.test import override_settings
from django.test.client import RequestFactory


class VisitForm(forms.Form):
    note = forms.CharField(
        max_length=20, widget=forms.Textarea, help_text="What the patient said, in their words."
    )
    tests = forms.MultipleChoiceField(
        choices=[("mri", "Brain MRI"), ("lft", "Liver tests")],
        widget=forms.CheckboxSelectMultiple,
        help_text="Tick every test ordered today.",
    )
    urgency = forms.ChoiceField(
        choices=[("routine", "Routine"), ("urgent", "Urgent")], widget=forms.RadioSelect
    )


def render(form: forms.Form) -> str:
    return render_to_string("includes/form.html", {"form": form})


def ids(html: str) -> set[str]:
    return set(re.findall(r'\bid="([^"]+)"', html))


def test_field_help_is_the_element_the_input_is_described_by() -> None:
    html = render(VisitForm())
    assert 'aria-describedby="id_note_helptext"' in html
    assert 'id="id_note_helptext"' in html


def test_every_description_the_form_points_at_exists() -> None:
    html = render(VisitForm(data={"note": "x" * 25, "urgency": "later"}))
    pointed_at = {
        ref for value in re.findall(r'aria-describedby="([^"]+)"', html) for ref in value.split()
    }
    # note: help and error; tests: help and error (required); urgency: error (invalid choice)
    assert pointed_at == {
        "id_note_helptext",
        "id_note_error",
        "id_tests_helptext",
        "id_tests_error",
        "id_urgency_error",
    }
    assert pointed_at <= ids(html)


def test_an_error_is_linked_to_its_field_and_marks_it_invalid() -> None:
    html = render(VisitForm(data={"note": "", "tests": ["mri"], "urgency": "routine"}))
    textarea = re.search(r"<textarea[^>]*>", html)
    assert textarea is not None
    assert 'aria-invalid="true"' in textarea.group(0)
    assert 'aria-describedby="id_note_helptext id_note_error"' in textarea.group(0)
    assert '<p class="error" id="id_note_error">This field is required.</p>' in html


def test_checkbox_and_radio_groups_are_fieldsets_with_a_legend() -> None:
    html = render(VisitForm())
    assert len(re.findall(r"<fieldset[^>]*>\s*<legend>", html)) == 2
    assert re.search(r"<legend>Tests <span", html)
    assert re.search(r"<legend>Urgency <span", html)
    # A group is named by its legend; a <label for> would point at one box only.
    assert 'for="id_tests"' not in html
    assert 'for="id_urgency"' not in html


class LetterForm(forms.Form):
    letter = forms.CharField(max_length=2000, widget=forms.Textarea)


def test_a_text_over_its_maximum_is_refused_with_its_count() -> None:
    form = LetterForm(data={"letter": "x" * 2140})
    assert not form.is_valid()
    html = render(form)
    assert "This is 2,140 of 2,000 characters: shorten it by 140." in html


def test_other_errors_keep_their_own_words() -> None:
    html = render(VisitForm(data={"note": "fine", "tests": ["mri"], "urgency": "later"}))
    assert "Select a valid choice. later is not one of the available choices." in html


@override_settings(DEBUG=True)
def test_django_htmx_debug_script_is_included_once_in_debug() -> None:
    html = render_to_string("base.html", request=RequestFactory().get("/"))
    assert html.count("django_htmx/django-htmx.js") == 1


def test_production_pages_carry_no_debug_script_or_flag() -> None:
    html = render_to_string("base.html", request=RequestFactory().get("/"))
    assert "django-htmx.js" not in html
    assert "data-debug" not in html
    assert html.count("django_htmx/htmx-2.min.js") == 1
    assert '"includeIndicatorStyles": false' in html
