from __future__ import annotations

import base64
from typing import Any

import factory
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from factory.django import DjangoModelFactory

from clinic.accounts.models import CareTeam, Role, User
from patients.models import Patient, Sex

TEST_PASSWORD = "correct-horse-battery-staple-42"


class CareTeamFactory(DjangoModelFactory):
    class Meta:
        model = CareTeam
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Team {n}")


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    role = Role.NEUROLOGIST
    password = factory.django.Password(TEST_PASSWORD)

    @factory.post_generation
    def teams(self, create: bool, extracted: list[CareTeam] | None, **kwargs: object) -> None:
        if create and extracted:
            self.care_teams.add(*extracted)


class PatientFactory(DjangoModelFactory):
    class Meta:
        model = Patient

    mrn = factory.Sequence(lambda n: f"MRN{n:06d}")
    given_name = factory.Faker("first_name")
    family_name = factory.Faker("last_name")
    date_of_birth = factory.Faker("date_of_birth", minimum_age=18, maximum_age=80)
    sex = Sex.FEMALE
    care_team = factory.SubFactory(CareTeamFactory)


def totp_code(device: TOTPDevice) -> str:
    """The code an authenticator app would show for this device right now."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"


def totp_code_for_key(manual_key: str) -> str:
    """The code an authenticator app shows after the user typed the set-up page's manual key."""
    secret = manual_key.replace(" ", "")
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    return f"{TOTP(key).token():06d}"


def patient_panel(client: Any, patient: Patient, key: str) -> str:
    """A panel of the patient page as the browser loads it into its slot (htmx)."""
    return _into_slot(client, "patients:panel", external_id=patient.external_id, key=key)


def patient_timeline(client: Any, patient: Patient) -> str:
    """The patient page's timeline as the browser loads it into its slot (htmx)."""
    return _into_slot(client, "patients:timeline", external_id=patient.external_id)


def _into_slot(client: Any, name: str, **kwargs: Any) -> str:
    url = reverse(name, kwargs=kwargs)
    response = client.get(url, headers={"HX-Request": "true"})
    assert response.status_code == 200, url
    return str(response.content.decode())
