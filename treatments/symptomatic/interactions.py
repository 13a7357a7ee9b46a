"""Interaction notes between symptomatic drugs and the patient's DMT (pure, no Django).

The protocol catalogue carries each drug's own interaction text (`Protocol.interaction_notes`);
this table says which symptomatic drugs that text is about, plus the class notes the labels
make for common MS symptomatic drugs. Matching is by generic name, case-insensitive.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from treatments.protocols import DrugClass, Protocol


@dataclass(frozen=True)
class InteractionRule:
    drugs: frozenset[str]
    drug_classes: frozenset[DrugClass]
    text: str
    source: str
    drug_keys: frozenset[str] = frozenset()
    # A note about the symptomatic drug itself, whatever the DMT (or none).
    any_dmt: bool = False
    # A note about taking it with one of these other symptomatic drugs (either way round).
    with_drugs: frozenset[str] = frozenset()


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

_S1P_QT_LABELS = frozenset({"fingolimod", "siponimod", "ponesimod", "ozanimod"})
_CYP1A2_SUBSTRATES = frozenset({"tizanidine", "duloxetine", "theophylline", "alosetron"})
_CYP2C8_SUBSTRATES = frozenset({"repaglinide", "pioglitazone", "paclitaxel", "rosiglitazone"})
_COMBINED_PILL = frozenset({"ethinylestradiol", "ethinyl estradiol", "levonorgestrel"})
_SIPONIMOD_INHIBITORS = frozenset({"fluconazole", "miconazole", "voriconazole"})
_SIPONIMOD_INDUCERS = frozenset(
    {"rifampicin", "rifampin", "carbamazepine", "enzalutamide", "modafinil", "efavirenz"}
)
_FAMPRIDINE = frozenset({"fampridine", "dalfampridine", "4-aminopyridine"})
_OCT2_INHIBITORS = frozenset({"cimetidine"})

RULES: tuple[InteractionRule, ...] = (
    InteractionRule(
        _ANTIEPILEPTICS,
        frozenset({DrugClass.INTERFERON}),
        "Interferon beta with an antiepileptic: interferons lower hepatic CYP450 activity and "
        "both can raise liver enzymes. Monitor ALT/AST more closely and watch seizure control.",
        "Interferon beta EU SmPC, section 4.5; clinical knowledge",
    ),
    InteractionRule(
        _BRADYCARDIC,
        frozenset({DrugClass.S1P_MODULATOR}),
        "Heart-rate-lowering drug with an S1P modulator: additive bradycardia and AV block at "
        "treatment start. Seek cardiology advice; extended first-dose monitoring per label.",
        "S1P modulator US prescribing information, section 7; EU SmPC, section 4.5",
    ),
    InteractionRule(
        _QT_PROLONGING,
        frozenset(),
        "QT-prolonging drug with an S1P modulator: avoid starting together (class Ia and III "
        "antiarrhythmics are not recommended); otherwise seek cardiology advice and extend "
        "first-dose ECG monitoring.",
        "Fingolimod, siponimod and ponesimod EU SmPC, sections 4.4-4.5; ozanimod US "
        "prescribing information, section 5 (verify: ozanimod's label words it as advice)",
        drug_keys=_S1P_QT_LABELS,
    ),
    InteractionRule(
        _SEROTONERGIC,
        frozenset(),
        "Serotonergic or MAO-inhibiting drug with ozanimod: MAO inhibitors are contraindicated "
        "(US) and serotonergic drugs can raise blood pressure; monitor BP.",
        "Ozanimod US prescribing information, section 7 (verify)",
        drug_keys=frozenset({"ozanimod"}),
    ),
    InteractionRule(
        frozenset({"warfarin"}),
        frozenset(),
        "Warfarin with teriflunomide: the peak INR fell by about a quarter. Check the INR "
        "closely when teriflunomide is started or stopped (including accelerated elimination).",
        "Teriflunomide US prescribing information, section 7; EU SmPC, section 4.5",
        drug_keys=frozenset({"teriflunomide"}),
    ),
    InteractionRule(
        frozenset({"rosuvastatin"}),
        frozenset(),
        "Rosuvastatin with teriflunomide: exposure rises (BCRP/OATP1B1); do not exceed "
        "rosuvastatin 10 mg a day. Other statins: watch for myopathy.",
        "Teriflunomide US prescribing information, section 7; EU SmPC, section 4.5",
        drug_keys=frozenset({"teriflunomide"}),
    ),
    InteractionRule(
        _CYP1A2_SUBSTRATES,
        frozenset(),
        "CYP1A2 substrate with teriflunomide: teriflunomide is a weak CYP1A2 inducer and may "
        "lessen the effect (tizanidine, duloxetine, theophylline); review the dose.",
        "Teriflunomide EU SmPC, section 4.5",
        drug_keys=frozenset({"teriflunomide"}),
    ),
    InteractionRule(
        _CYP2C8_SUBSTRATES,
        frozenset(),
        "CYP2C8 substrate with teriflunomide: exposure rises (repaglinide, pioglitazone); "
        "monitor and lower the dose if needed.",
        "Teriflunomide US prescribing information, section 7; EU SmPC, section 4.5",
        drug_keys=frozenset({"teriflunomide"}),
    ),
    InteractionRule(
        _COMBINED_PILL,
        frozenset(),
        "Combined oral contraceptive with teriflunomide: ethinylestradiol and levonorgestrel "
        "exposure rises; choose the type and dose of contraceptive with this in mind.",
        "Teriflunomide US prescribing information, section 7; EU SmPC, section 4.5",
        drug_keys=frozenset({"teriflunomide"}),
    ),
    InteractionRule(
        _SIPONIMOD_INHIBITORS,
        frozenset(),
        "CYP2C9 and CYP3A4 inhibitor with siponimod (fluconazole is both): siponimod exposure "
        "about doubles; not recommended together.",
        "Siponimod EU SmPC, section 4.5; US prescribing information, section 7",
        drug_keys=frozenset({"siponimod"}),
    ),
    InteractionRule(
        _SIPONIMOD_INDUCERS,
        frozenset(),
        "CYP3A4 / CYP2C9 inducer with siponimod: exposure falls and efficacy may be lost. "
        "Strong CYP3A4 inducers (rifampicin, carbamazepine) are not recommended for any "
        "genotype; moderate ones (modafinil, efavirenz) not for CYP2C9 *1/*3 or *2/*3.",
        "Siponimod EU SmPC, section 4.5; US prescribing information, section 7",
        drug_keys=frozenset({"siponimod"}),
    ),
    InteractionRule(
        _FAMPRIDINE,
        frozenset(),
        "Fampridine is cleared by the kidney: check creatinine clearance before starting and at "
        "least yearly. It is contraindicated with creatinine clearance below 50 mL/min, and its "
        "seizure risk rises with exposure.",
        "Fampridine EU SmPC, sections 4.2-4.4; dalfampridine US prescribing information, section 4",
        any_dmt=True,
    ),
    InteractionRule(
        _FAMPRIDINE,
        frozenset(),
        "Fampridine with an OCT2 inhibitor (cimetidine): fampridine exposure rises; the "
        "combination is contraindicated.",
        "Fampridine EU SmPC, section 4.3",
        with_drugs=_OCT2_INHIBITORS,
    ),
)


def _normalise(name: str) -> str:
    return " ".join(name.casefold().split())


def _is(name: str, drugs: frozenset[str]) -> bool:
    """Whether an entered drug (a generic name, perhaps with its dose) is one of `drugs`."""
    return any(name == d or name.startswith(d + " ") for d in drugs)


def interaction_notes(
    drug: str, protocol: Protocol | None, *, others: Iterable[str] = ()
) -> list[tuple[str, str]]:
    """(text, source) notes that apply to taking `drug` alongside the protocol's DMT (if any)
    and the patient's other current symptomatic drugs (`others`)."""
    name = _normalise(drug)
    other_names = [_normalise(other) for other in others]
    notes = []
    dmt_notes = False
    for rule in RULES:
        if rule.with_drugs:
            pair = (
                _is(name, rule.drugs) and any(_is(o, rule.with_drugs) for o in other_names)
            ) or (_is(name, rule.with_drugs) and any(_is(o, rule.drugs) for o in other_names))
            if pair:
                notes.append((rule.text, rule.source))
            continue
        if not _is(name, rule.drugs):
            continue
        if rule.any_dmt:
            notes.append((rule.text, rule.source))
        elif protocol is not None and (
            protocol.drug_class in rule.drug_classes or protocol.drug_key in rule.drug_keys
        ):
            notes.append((rule.text, rule.source))
            dmt_notes = True
    if dmt_notes and protocol is not None and protocol.interaction_notes:
        notes.append((f"{protocol.drug_name} label: {protocol.interaction_notes}", "catalogue"))
    return notes
