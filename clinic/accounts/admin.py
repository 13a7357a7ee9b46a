from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from clinic.accounts.models import CareTeam, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "first_name", "last_name", "role", "discipline", "is_active")
    list_filter = ("role", "discipline", "is_active", "care_teams")
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        ("Clinic", {"fields": ("role", "discipline", "care_teams", "can_break_glass")}),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        ("Clinic", {"fields": ("role", "discipline", "care_teams")}),
    )


@admin.register(CareTeam)
class CareTeamAdmin(admin.ModelAdmin):
    list_display = ("name", "lead_neurologist")
