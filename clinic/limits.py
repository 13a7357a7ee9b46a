"""How long free text may be, everywhere a person types it (issue #15: "every free-text field
has a maximum length, with the length shown").

Model text fields carry these as `max_length` (Django puts it on the form field and the
textarea; the database keeps `text`), plain form fields name them directly, and
`templates/includes/form_field.html` shows "up to N characters" under every such field. The
sizes are for what the field holds: a reason is a sentence or two, a note a paragraph, a report
a page.
"""

from __future__ import annotations

REASON = 500  # why something was waived, declined, cancelled, corrected, overridden
NOTE = 2000  # a clinical note, symptoms, goals, an address, comorbidities, allergies
REPORT = 5000  # a radiology report, a referral summary
