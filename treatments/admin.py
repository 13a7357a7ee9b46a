"""Django admin for the catalogue and clinic settings only: clinical rows are changed through
the app's pages and services (which audit), never here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from treatments.models import ClinicSettings, ProtocolVersion


@admin.register(ProtocolVersion)
class ProtocolVersionAdmin(admin.ModelAdmin):
    list_display = ["drug_name", "region", "version", "effective_from", "loaded_at"]
    list_filter = ["region"]
    search_fields = ["drug_key", "drug_name"]
    readonly_fields = [f.name for f in ProtocolVersion._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Running plans pin their version; `load_catalogue` is the only way in.
        return False


@admin.register(ClinicSettings)
class ClinicSettingsAdmin(admin.ModelAdmin):
    list_display = ["label_region", "review_interval_months", "updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not ClinicSettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
