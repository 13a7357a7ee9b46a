from django.apps import AppConfig


class TreatmentsConfig(AppConfig):
    name = "treatments"
    verbose_name = "Treatments and monitoring"

    def ready(self) -> None:
        # Connects the plan schedule's receiver of treatments.safety.signals.
        from treatments.plans import schedule  # noqa: F401
