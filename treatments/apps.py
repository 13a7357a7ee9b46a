from django.apps import AppConfig


class TreatmentsConfig(AppConfig):
    name = "treatments"
    verbose_name = "Treatments and monitoring"

    def ready(self) -> None:
        from treatments import rehab_services

        rehab_services.register()
