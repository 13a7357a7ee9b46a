"""The generated clinical picture: course states, EDSS assessments, relapses and MRI studies."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal
from typing import Any

from patients.models import (
    CourseState,
    EdssAssessment,
    MriStudy,
    Relapse,
)
from treatments.bench.shape import ClinicShape, Counts, GenPatient
from treatments.bench.writing import bulk_rows
from treatments.protocols import add_months


def edss_row(rng: random.Random, step: Decimal) -> dict[str, Any]:
    s = int(step)
    return {
        "visual": min(s, 1),
        "brainstem": min(s // 2, 2),
        "pyramidal": min(s, 5),
        "cerebellar": min(s // 2, 3),
        "sensory": min(s // 2, 2),
        "bowel_bladder": min(s // 3, 2),
        "cerebral": 0,
        "ambulation": 0 if s < 5 else min(16, s),
        "step": step,
        "fs_step": step,
        "ambulation_step": None,
        "rule": "Transcribed from the clinic letter (functional systems as scored there)",
        "inconsistencies": [],
    }


def clinical_picture(
    shape: ClinicShape, rng: random.Random, patients: list[GenPatient], counts: Counts
) -> None:
    courses, edss, relapses, mri = [], [], [], []
    for p in patients:
        start = p.diagnosis_on
        if p.course == "spms":
            switch = start + (shape.today - start) * 2 // 3
            courses.append(
                {
                    "patient_id": p.id,
                    "course": "rrms",
                    "start_on": start,
                    "end_on": switch - timedelta(days=1),
                    "note": "",
                }
            )
            courses.append(
                {
                    "patient_id": p.id,
                    "course": "spms",
                    "start_on": switch,
                    "end_on": None,
                    "note": "",
                }
            )
        else:
            courses.append(
                {
                    "patient_id": p.id,
                    "course": p.course,
                    "start_on": start,
                    "end_on": None,
                    "note": "",
                }
            )
        step = Decimal(rng.choice(["1.0", "1.5", "2.0", "2.5", "3.0"]))
        day = start
        while day <= shape.today:
            edss.append({"patient_id": p.id, "assessed_on": day, **edss_row(rng, step)})
            if rng.random() < 0.15 and step < Decimal("8.0"):
                step += Decimal("0.5") if step >= 1 else Decimal("1.0")
            day = add_months(day, 6)
        year = start
        while year <= shape.today:
            if p.course in ("rrms", "cis") and rng.random() < 0.25:
                onset = year + timedelta(days=rng.randint(0, 364))
                if onset <= shape.today:
                    relapses.append(
                        {
                            "patient_id": p.id,
                            "onset_on": onset,
                            "end_on": onset + timedelta(days=30)
                            if onset < shape.today - timedelta(days=60)
                            else None,
                            "symptoms": "Leg weakness and numbness over several days",
                            "functional_systems": ["pyramidal"],
                            "severity": rng.choice(["mild", "moderate", "severe"]),
                            "objectively_confirmed": True,
                            "infection_excluded": True,
                            "recovery": "partial",
                            "treatment": "iv_mp",
                        }
                    )
            contrast = rng.random() < 0.5
            mri.append(
                {
                    "patient_id": p.id,
                    "study_on": year,
                    "field_strength": "3t",
                    "contrast_given": contrast,
                    "new_or_enlarging_t2": rng.choice([0, 0, 0, 1, 2]),
                    "gad_enhancing": rng.choice([0, 0, 1]) if contrast else None,
                    "is_baseline": year == start,
                    "report": "",
                }
            )
            year = add_months(year, 12)
    bulk_rows(CourseState, courses, counts)
    bulk_rows(EdssAssessment, edss, counts)
    bulk_rows(Relapse, relapses, counts)
    bulk_rows(MriStudy, mri, counts)
