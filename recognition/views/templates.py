"""Template pages for admins: the list, a new template from a blank page, the editor."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from recognition.errors import ApplicationError
from recognition.models import Template, TemplateKind
from recognition.services.templates import template_create
from recognition.views.access import admin_required


@admin_required
@require_GET
def templates_page(request):
    templates = Template.objects.filter(is_current=True).order_by("name")
    return render(request, "form_templates/list.html", {"templates": templates})


@admin_required
@require_http_methods(["GET", "POST"])
def template_new_page(request):
    context = {"kinds": TemplateKind.choices}
    if request.method == "POST":
        reference = request.FILES.get("reference")
        try:
            if reference is None:
                raise ApplicationError("choose the blank form's scan or PDF")
            template = template_create(
                name=request.POST.get("name", ""),
                kind=request.POST.get("kind", TemplateKind.FORM),
                reference_data=reference.read(),
                created_by=request.user,
            )
        except ApplicationError as exc:
            context.update(error=exc.message, name=request.POST.get("name", ""))
            return render(request, "form_templates/new.html", context, status=400)
        messages.success(
            request, f"{template.fields.count()} fields found on the blank form: check them."
        )
        return redirect("template-edit", template_id=template.pk)
    return render(request, "form_templates/new.html", context)


@admin_required
@require_GET
def template_edit_page(request, template_id: int):
    template = Template.objects.filter(pk=template_id).first()
    if template is None:
        raise Http404("no such template")
    return render(request, "form_templates/edit.html", {"template": template})
