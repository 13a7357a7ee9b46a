from django.apps import AppConfig


class TreatmentsConfig(AppConfig):
    name = "treatments"
    verbose_name = "Treatments and monitoring"

    def ready(self) -> None:
        from patients import timeline
        from treatments import contributions

        timeline.register_timeline_source(contributions.dmt_timeline)
        timeline.register_timeline_source(contributions.results_timeline)
        timeline.register_timeline_source(contributions.symptomatic_timeline)
        timeline.register_period_source(contributions.dmt_periods)
        timeline.register_panel_source(contributions.treatments_panel)

        from treatments import safety_contributions

        timeline.register_timeline_source(safety_contributions.side_effect_timeline)
        timeline.register_panel_source(safety_contributions.safety_panel)

        from treatments import caseload, rehab_services

        caseload.register()

        rehab_services.register()
