from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "patients"
    verbose_name = "Patients"

    def ready(self) -> None:
        from patients import timeline
        from patients.sources import clinical_timeline

        timeline.register_timeline_source(clinical_timeline)
        from patients import referral_services

        referral_services.register()
