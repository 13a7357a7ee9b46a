from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render

from clinic.access import ClinicRequest, render_page
from clinic.permissions import Perm, requires
from treatments.catalogue import forms
from treatments.catalogue import services as catalogue_services
from treatments.errors import TreatmentError
from treatments.models import (
    ClinicSettings,
    ProtocolVersion,
)
from treatments.protocols import Anchor, Protocol, baseline_checklist, investigation_name

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
        "investigation_name": investigation_name,
    }
    return render(request, "treatments/drug.html", context)


_ANCHOR_PHRASES = {
    Anchor.FIRST_DOSE: "the first dose",
    Anchor.EACH_DOSE: "each dose",
    Anchor.EACH_COURSE: "the start of each course",
    Anchor.LAST_DOSE: "the most recent dose",
    Anchor.STOP: "the stop",
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
    conditions = ", ".join(c.value.replace("_", " ") for c in rule.when)
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
