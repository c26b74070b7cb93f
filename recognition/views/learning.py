"""The learning dashboard for admins; its actions go through the learning API."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_GET

from recognition.models import RetrainingJob, TrainingSample
from recognition.selectors.learning import (
    confidence_drift,
    production_accuracy,
    versions_side_by_side,
)
from recognition.services.model_versions import model_versions_builtin_ensure
from recognition.views.access import admin_required


@admin_required
@require_GET
def learning_page(request):
    model_versions_builtin_ensure()
    context = {
        "versions": versions_side_by_side(),
        "jobs": RetrainingJob.objects.select_related("candidate", "base_version")[:20],
        "accuracy": production_accuracy(),
        "drift": confidence_drift(),
        "samples_train": TrainingSample.objects.filter(kind="digits", is_holdout=False).count(),
        "samples_holdout": TrainingSample.objects.filter(kind="digits", is_holdout=True).count(),
        "strings_train": TrainingSample.objects.filter(kind="strings", is_holdout=False).count(),
        "strings_holdout": TrainingSample.objects.filter(kind="strings", is_holdout=True).count(),
    }
    return render(request, "learning/dashboard.html", context)
