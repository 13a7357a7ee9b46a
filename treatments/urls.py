"""The `treatments:` URL namespace, made of its sub-domains' routes (each package's urls.py)."""

from treatments.catalogue import urls as catalogue
from treatments.golive import urls as golive
from treatments.infusions import urls as infusions
from treatments.monitoring import urls as monitoring
from treatments.plans import urls as plans
from treatments.summary import urls as summary
from treatments.symptomatic import urls as symptomatic
from treatments.triage import urls as triage

app_name = "treatments"

urlpatterns = [
    *monitoring.urlpatterns,
    *catalogue.urlpatterns,
    *plans.urlpatterns,
    *symptomatic.urlpatterns,
    *summary.urlpatterns,
    *golive.urlpatterns,
    *triage.urlpatterns,
    *infusions.urlpatterns,
]
