"""Interaction notes between symptomatic drugs and the patient's DMT (pure, no Django).

The protocol catalogue carries each drug's own interaction text (`Protocol.interaction_notes`);
this table says which symptomatic drugs that text is about, plus the class notes the labels
make for common MS symptomatic drugs. Matching is by generic name, case-insensitive.
"""

from __future__ import annotations

from dataclasses import dataclass

from treatments.protocols import DrugClass, Protocol


@dataclass(frozen=True)
class InteractionRule:
    drugs: frozenset[str]
    drug_classes: frozenset[DrugClass]
    text: str
    source: str
    drug_keys: frozenset[str] = frozenset()


_ANTIEPILEPTICS = frozenset(
    {
        "carbamazepine",
        "oxcarbazepine",
        "phenytoin",
        "phenobarbital",
        "valproate",
        "sodium valproate",
        "lamotrigine",
        "topiramate",
    }
)
_BRADYCARDIC = frozenset(
    {
        "propranolol",
        "atenolol",
        "bisoprolol",
        "metoprolol",
        "carvedilol",
        "nebivolol",
        "verapamil",
        "diltiazem",
        "ivabradine",
        "digoxin",
        "amiodarone",
        "sotalol",
    }
)
_QT_PROLONGING = frozenset(
    {
        "citalopram",
        "escitalopram",
        "amiodarone",
        "sotalol",
        "haloperidol",
        "methadone",
        "ondansetron",
        "domperidone",
    }
)
_SEROTONERGIC = frozenset(
    {
        "sertraline",
        "citalopram",
        "escitalopram",
        "fluoxetine",
        "paroxetine",
        "venlafaxine",
        "duloxetine",
        "amitriptyline",
        "nortriptyline",
        "tramadol",
        "rasagiline",
        "selegiline",
        "moclobemide",
        "phenelzine",
    }
)

RULES: tuple[InteractionRule, ...] = (
    InteractionRule(
        _ANTIEPILEPTICS,
        frozenset({DrugClass.INTERFERON}),
        "Interferon beta with an antiepileptic: interferons lower hepatic CYP450 activity and "
        "both can raise liver enzymes. Monitor ALT/AST more closely and watch seizure control.",
        "EU-SmPC §4.5 (interferon beta); CK",
    ),
    InteractionRule(
        _BRADYCARDIC,
        frozenset({DrugClass.S1P_MODULATOR}),
        "Heart-rate-lowering drug with an S1P modulator: additive bradycardia and AV block at "
        "treatment start. Seek cardiology advice; extended first-dose monitoring per label.",
        "US-PI §7; EU-SmPC §4.5",
    ),
    InteractionRule(
        _QT_PROLONGING,
        frozenset(),
        "QT-prolonging drug with fingolimod: avoid, or seek cardiology advice and extend "
        "first-dose ECG monitoring.",
        "US-PI §7; EU-SmPC §4.4-4.5 (fingolimod)",
        drug_keys=frozenset({"fingolimod"}),
    ),
    InteractionRule(
        _SEROTONERGIC,
        frozenset(),
        "Serotonergic or MAO-inhibiting drug with ozanimod: MAO inhibitors are contraindicated "
        "(US) and serotonergic drugs can raise blood pressure; monitor BP.",
        "US-PI §7 (ozanimod); verify",
        drug_keys=frozenset({"ozanimod"}),
    ),
)


def _normalise(name: str) -> str:
    return " ".join(name.casefold().split())


def interaction_notes(drug: str, protocol: Protocol) -> list[tuple[str, str]]:
    """(text, source) notes that apply to taking `drug` alongside the protocol's DMT."""
    name = _normalise(drug)
    notes = []
    for rule in RULES:
        applies = protocol.drug_class in rule.drug_classes or protocol.drug_key in rule.drug_keys
        if applies and any(name == d or name.startswith(d + " ") for d in rule.drugs):
            notes.append((rule.text, rule.source))
    if notes and protocol.interaction_notes:
        notes.append((f"{protocol.drug_name} label: {protocol.interaction_notes}", "catalogue"))
    return notes
