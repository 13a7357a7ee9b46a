from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AuditConfig(AppConfig):
    name = "clinic.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from clinic.audit.protection import protect_after_migrate

        # After every migrate (run as the tables' owner): triggers on every append-only table,
        # including event tables added since, and the app role's grants.
        post_migrate.connect(protect_after_migrate, sender=self, dispatch_uid="audit-protect")
