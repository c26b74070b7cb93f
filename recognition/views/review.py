"""The review pages: field mode, grid mode and the figures. The work itself goes through the
review API (recognition.api.review), which applies the same role checks."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_GET

from recognition.selectors.review import review_stats
from recognition.views.access import reviewer_required


@reviewer_required
@require_GET
def review_page(request):
    return render(request, "review/field.html", {})


@reviewer_required
@require_GET
def grid_page(request):
    digit = request.GET.get("digit", "")
    if len(digit) != 1 or not digit.isdigit():
        digit = ""
    return render(request, "review/grid.html", {"digit": digit, "digits": "0123456789"})


@reviewer_required
@require_GET
def stats_page(request):
    return render(request, "review/stats.html", {"stats": review_stats()})
