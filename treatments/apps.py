from django.apps import AppConfig


class TreatmentsConfig(AppConfig):
    name = "treatments"
    verbose_name = "Treatments and monitoring"

    def ready(self) -> None:
        from clinic.audit.models import Category
        from patients import timeline
        from treatments import contributions

        timeline.register_timeline_source(contributions.dmt_timeline)
        timeline.register_timeline_source(contributions.results_timeline)
        timeline.register_timeline_source(contributions.symptomatic_timeline)
        timeline.register_period_source(contributions.dmt_periods)
        timeline.register_panel_source(
            contributions.treatments_panel,
            key="treatments-panel",
            title="DMT and monitoring",
            category=Category.TREATMENT,
            order=20,
        )

        from treatments import safety_contributions

        timeline.register_timeline_source(safety_contributions.side_effect_timeline)
        timeline.register_panel_source(
            safety_contributions.safety_panel,
            key="safety-panel",
            title="Safety: dose gates, PML risk, side effects",
            category=Category.MONITORING,
            order=25,
        )

        from treatments import caseload, rehab_services

        caseload.register()

        rehab_services.register()
