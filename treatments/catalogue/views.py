from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from clinic.access import ClinicRequest, render_page
from clinic.permissions import Perm, requires
from clinic.templatetags.words import key_words
from treatments.catalogue import forms
from treatments.catalogue import services as catalogue_services
from treatments.errors import TreatmentError
from treatments.models import (
    ClinicSettings,
    ProtocolVersion,
    ReferenceRange,
)
from treatments.protocols import (
    Anchor,
    PregnancyUse,
    Protocol,
    baseline_checklist,
    investigation_name,
)

# --- catalogue -------------------------------------------------------------------------------


def catalogue(request: ClinicRequest) -> HttpResponse:
    """Every drug's protocol in the clinic's label region (others one click away)."""
    clinic = ClinicSettings.load()
    region = request.GET.get("region") or clinic.label_region
    if region not in ("US", "EU"):
        region = clinic.label_region
    versions = [
        v
        for v in ProtocolVersion.objects.filter(region=region).order_by(
            "drug_name", "-effective_from"
        )
    ]
    latest: dict[str, ProtocolVersion] = {}
    for version in versions:
        latest.setdefault(version.drug_key, version)
    context = {
        "versions": list(latest.values()),
        "region": region,
        "clinic": clinic,
    }
    return render_page(request, "treatments/catalogue.html", context, partial="catalogue-list")


def drug_detail(request: ClinicRequest, drug_key: str) -> HttpResponse:
    clinic = ClinicSettings.load()
    region = request.GET.get("region") or clinic.label_region
    versions = list(ProtocolVersion.objects.filter(drug_key=drug_key).order_by("-effective_from"))
    if not versions:
        raise Http404("No such drug in the catalogue.")
    in_region = [v for v in versions if v.region == region] or versions
    version = in_region[0]
    protocol = version.protocol
    context = {
        "version": version,
        "protocol": protocol,
        "versions": versions,
        "region": version.region,
        "regions": sorted({v.region for v in versions}),
        "rules": [_rule_view(protocol, rule) for rule in protocol.monitoring_rules],
        "checklist": baseline_checklist(protocol),
        "label_rules": _label_rules(protocol),
        "investigation_name": investigation_name,
    }
    return render(request, "treatments/drug.html", context)


_PREGNANCY_WORDS = {
    PregnancyUse.CONTRAINDICATED: "Contraindicated in pregnancy: refused for a patient "
    "recorded as pregnant",
    PregnancyUse.AVOID: "To be avoided in pregnancy: refused for a patient recorded as pregnant",
    PregnancyUse.ALLOWED: "May be used in pregnancy where clinically needed",
}


def _label_rules(protocol: Protocol) -> list[dict[str, str]]:
    """The label rules that stop a start or a dose (treatments.plans.label_gates), each with
    its source and the choice made where the reference says "(verify)"."""
    rules = []
    pregnancy = protocol.pregnancy
    if pregnancy is not None:
        text = _PREGNANCY_WORDS[pregnancy.use]
        if pregnancy.contraception:
            who = " (women and men)" if pregnancy.contraception_for_men else ""
            text += f". Asked at the start{who}: {pregnancy.contraception}"
        rules.append({"rule": text, "source": pregnancy.source, "verify": pregnancy.verify_note})
    for limit in (protocol.course_limit, protocol.course_delay, protocol.bsa_dosing):
        if limit is not None:
            rules.append({"rule": limit.text, "source": limit.source, "verify": limit.verify_note})
    if protocol.min_dose_interval_days is not None:
        split = (
            f" (the second half of a split first dose may follow within "
            f"{protocol.split_first_dose_days} days)"
            if protocol.split_first_dose_days
            else ""
        )
        rules.append(
            {
                "rule": f"Doses at least {protocol.min_dose_interval_days} days apart{split}",
                "source": protocol.min_dose_interval_source,
                "verify": protocol.min_dose_interval_verify_note,
            }
        )
    for dosing in protocol.genotype_dosing:
        genotypes = ", ".join(dosing.genotypes)
        what = (
            dosing.maintenance
            if dosing.contraindicated
            else f"titration {dosing.titration}; maintenance {dosing.maintenance}"
        )
        rules.append(
            {
                "rule": f"{protocol.genotype_investigation.upper()} {genotypes}: {what}",
                "source": dosing.source,
                "verify": "",
            }
        )
    return rules


_ANCHOR_PHRASES = {
    Anchor.FIRST_DOSE: "the first dose",
    Anchor.EACH_DOSE: "each dose",
    Anchor.EACH_COURSE: "the start of each course",
    Anchor.LAST_DOSE: "the most recent dose",
    Anchor.STOP: "the stop",
    Anchor.RESTART: "the day the drug is resumed after a long enough interruption",
}


def _rule_view(protocol: Protocol, rule: Any) -> dict[str, str]:
    unit = rule.unit.value.rstrip("s")
    parts = []
    if rule.offsets:
        parts.append(f"{unit}s " + ", ".join(str(o) for o in rule.offsets))
    if rule.repeat_every:
        start = rule.repeat_start
        parts.append(
            f"then every {rule.repeat_every} {unit}s" + (f" from {unit} {start}" if start else "")
        )
    if rule.interval_setting:
        parts.append("every review interval (clinic setting, 3–6 months)")
    until = ""
    if rule.until:
        until = (
            f"{rule.until.amount} {rule.until.unit.value} after "
            f"{_ANCHOR_PHRASES[rule.until.anchor]}"
        )
    elif rule.anchor == Anchor.LAST_DOSE:
        until = "the next dose"
    else:
        until = "while on the drug" if not rule.survives_stop else "see rule"
    conditions = ", ".join(key_words(c.value) for c in rule.when)
    return {
        "key": rule.key,
        "what": investigation_name(rule.investigation),
        "text": rule.text,
        "anchor": _ANCHOR_PHRASES[rule.anchor],
        "when": "; ".join(parts) or "once",
        "until": until + (" (continues after a stop)" if rule.survives_stop else ""),
        "window": f"{rule.window_before_days} days before to {rule.window_after_days} days after",
        "conditions": conditions,
        "sources": "; ".join(rule.sources),
        "verify": rule.verify_note,
    }


@requires(Perm.CATALOGUE_SETTINGS)
def clinic_settings(request: ClinicRequest) -> HttpResponse:
    clinic = ClinicSettings.load()
    form = forms.SettingsForm(request.POST or None, instance=clinic)
    if request.method == "POST" and form.is_valid():
        try:
            catalogue_services.update_clinic_settings(
                label_region=form.cleaned_data["label_region"],
                review_interval_months=form.cleaned_data["review_interval_months"],
                go_live_on=form.cleaned_data["go_live_on"],
                phq9_enabled=form.cleaned_data["phq9_enabled"],
                relapse_review_hours=form.cleaned_data["relapse_review_hours"],
                by=request.user,
            )
        except TreatmentError as error:
            form.add_service_error(error)
        else:
            messages.success(
                request, "Clinic settings saved. New plans use them; running plans keep theirs."
            )
            return redirect("treatments:settings")
    status = 422 if request.method == "POST" else 200
    return render(request, "treatments/settings.html", {"form": form}, status=status)


@requires(Perm.CATALOGUE_SETTINGS)
def reference_ranges(request: ClinicRequest) -> HttpResponse:
    """The clinic default reference ranges: each band's version in effect, the changes waiting
    to take effect, every earlier version, and a form that adds a version (never an edit)."""
    today = timezone.localdate()
    form = forms.ReferenceRangeForm(request.POST or None, initial=_range_initial(request, today))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            row = catalogue_services.add_reference_range(
                analyte=data["analyte"],
                sex=data["sex"],
                age_from_years=data["age_from_years"],
                age_to_years=data["age_to_years"],
                low=data["low"],
                high=data["high"],
                source=data["source"],
                note=data["note"],
                valid_from=data["valid_from"],
                by=request.user,
            )
        except TreatmentError as error:
            form.add_service_error(error)
        else:
            messages.success(
                request,
                f"{row.analyte_name} ({row.band_label}): {row.limits_display} from "
                f"{row.valid_from:%d %b %Y}. Results already recorded keep the range they were "
                "graded against.",
            )
            return redirect("treatments:reference_ranges")
    rows = list(ReferenceRange.objects.select_related("created_by"))
    current = ReferenceRange.objects.current(on=today)
    current_ids = {row.pk for row in current}
    context = {
        "current": current,
        "pending": [r for r in rows if r.valid_from > today],
        "earlier": sorted(
            (r for r in rows if r.pk not in current_ids and r.valid_from <= today),
            key=lambda r: (*r.sort_key, r.valid_from),
        ),
        "form": form,
        "today": today,
    }
    status = 422 if request.method == "POST" else 200
    return render(request, "treatments/reference_ranges.html", context, status=status)


def _range_initial(request: ClinicRequest, today: date) -> dict[str, Any]:
    """ "Change" links carry the band; the form starts from its version in effect."""
    initial: dict[str, Any] = {"valid_from": today}
    try:
        found = ReferenceRange.objects.get(pk=int(request.GET.get("from", "")))
    except (ValueError, ReferenceRange.DoesNotExist):
        return initial
    initial.update(
        analyte=found.analyte,
        sex=found.sex,
        age_from_years=found.age_from_years,
        age_to_years=found.age_to_years,
        low=found.low,
        high=found.high,
        source=found.source,
    )
    return initial
