"""Server-rendered pages for clerks: upload, the documents list, one document's results."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from recognition.errors import ApplicationError, NotFoundError
from recognition.models import Document, DocumentStatus, Page, Template
from recognition.selectors.documents import (
    document_with_results,
    documents_list,
    documents_visible_to,
)
from recognition.services.documents import document_delete, user_may_delete


@login_required
@require_GET
def upload_page(request):
    templates = (
        Template.objects.filter(is_current=True, is_live=True)
        .order_by("name")
        .values("id", "name", "kind")
    )
    return render(request, "documents/upload.html", {"templates": templates})


@login_required
@require_GET
def documents_page(request):
    status = request.GET.get("status") or None
    if status not in DocumentStatus.values:
        status = None
    documents = documents_list(user=request.user, status=status)
    page = Paginator(documents, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "documents/list.html",
        {"page_obj": page, "status": status, "statuses": DocumentStatus.choices},
    )


@login_required
@require_GET
def document_page(request, document_id):
    try:
        document = document_with_results(user=request.user, document_id=document_id)
    except Document.DoesNotExist as exc:
        raise Http404("no such document") from exc
    may_delete = user_may_delete(request.user, document)
    return render(
        request, "documents/detail.html", {"document": document, "may_delete": may_delete}
    )


@login_required
@require_POST
def document_delete_page(request, document_id):
    try:
        document = document_delete(user=request.user, document_id=document_id)
    except NotFoundError as exc:
        raise Http404("no such document") from exc
    except ApplicationError as exc:
        messages.error(request, f"Not deleted: {exc.message}.")
        return redirect("document", document_id=document_id)
    messages.success(request, f"Deleted {document.original_name} with its results.")
    return redirect("documents")


@login_required
@require_GET
def page_image(request, document_id, index: int):
    """A page image, only to those who may see its document (media is never served directly)."""
    page = Page.objects.filter(
        document__in=documents_visible_to(request.user), document_id=document_id, index=index
    ).first()
    if page is None or not page.image:
        raise Http404("no such page")
    return FileResponse(page.image.open("rb"), content_type="image/png")
