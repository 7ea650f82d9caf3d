"""URLs of evaluation."""

from __future__ import annotations

from django.urls import URLPattern

app_name = "evaluation"
urlpatterns: list[URLPattern] = []

# Figures, rankings, the score scheme and their exports (views/figures.py, views/rankings.py,
# exports.py).
from django.urls import path  # noqa: E402

from gongzhi.evaluation import exports  # noqa: E402
from gongzhi.evaluation.views import figures, rankings  # noqa: E402

urlpatterns += [
    path("", figures.figures, name="figures"),
    path("figures.xlsx", exports.figures_xlsx, name="figures_xlsx"),
    path("report.pdf", exports.report_pdf, name="report_pdf"),
    path("rankings/", rankings.ranking_list, name="rankings"),
    path("rankings/publish/", rankings.publish, name="publish"),
    path("rankings/<int:ranking_id>/", rankings.ranking_detail, name="ranking"),
    path("rankings/<int:ranking_id>.xlsx", exports.ranking_xlsx, name="ranking_xlsx"),
    path("systems/<int:system_id>.xlsx", exports.system_xlsx, name="system_xlsx"),
    path("schemes/<int:region_id>/", rankings.scheme, name="scheme"),
]

# Indicator systems, assessments and rectification lists (views/systems.py).
from gongzhi.evaluation.views import systems  # noqa: E402

urlpatterns += [
    path("systems/", systems.system_list, name="systems"),
    path("systems/new/", systems.new_system, name="new_system"),
    path(
        "systems/<int:system_id>/indicators/new/",
        systems.new_indicator,
        name="new_indicator",
    ),
    path(
        "systems/<int:system_id>/indicators/<int:indicator_id>/edit/",
        systems.edit_indicator,
        name="edit_indicator",
    ),
    path(
        "systems/<int:system_id>/indicators/<int:indicator_id>/remove/",
        systems.remove_indicator,
        name="remove_indicator",
    ),
    path("systems/<int:system_id>/", systems.system_detail, name="system"),
    path(
        "systems/<int:system_id>/rectifications/",
        systems.generate_rectifications,
        name="generate_rectifications",
    ),
    path("systems/<int:system_id>/<slug:action>/", systems.system_action, name="system_action"),
    path("assessments/<int:assessment_id>/", systems.assessment_detail, name="assessment"),
    path(
        "assessments/<int:assessment_id>/indicators/<int:indicator_id>/",
        systems.enter_score,
        name="enter_score",
    ),
    path("rectifications/", systems.rectification_list, name="rectifications"),
    path("rectifications/<int:item_id>/", systems.rectification_detail, name="rectification"),
    path(
        "rectifications/<int:item_id>/submit/",
        systems.submit_rectification,
        name="submit_rectification",
    ),
    path(
        "rectifications/<int:item_id>/decide/",
        systems.decide_rectification,
        name="decide_rectification",
    ),
    path("evidence/<uuid:evidence_id>/", systems.evidence_file, name="evidence_file"),
]
