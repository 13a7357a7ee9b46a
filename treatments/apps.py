from django.apps import AppConfig


class TreatmentsConfig(AppConfig):
    name = "treatments"
    verbose_name = "Treatments and monitoring"

    def ready(self) -> None:
        from treatments import rehab_services  # noqa: PLC0415

        rehab_services.register()
