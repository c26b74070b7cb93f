from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from recognition.selectors.health import platform_health


@never_cache
@require_GET
def healthz(request):
    """200 when the database, the broker and a worker for every queue answer; 503 otherwise.

    `?check=database,broker` limits the probe to those parts (a web container's own liveness).
    """
    requested = request.GET.get("check")
    try:
        health = (
            platform_health(parts=tuple(p.strip() for p in requested.split(",") if p.strip()))
            if requested
            else platform_health()
        )
    except ValueError as exc:
        return JsonResponse({"error": {"code": "invalid", "message": str(exc)}}, status=400)
    body = {
        "status": "ok" if health.ok else "fail",
        "failing": health.failing,
        "checks": {name: check.as_dict() for name, check in health.checks.items()},
    }
    return JsonResponse(body, status=200 if health.ok else 503)
