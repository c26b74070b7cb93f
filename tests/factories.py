"""factory-boy factories for the recognition models."""

from __future__ import annotations

import hashlib

import cv2
import factory
import numpy as np
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile

from recognition.models import Document, DocumentStatus, Field, FieldKind, FieldStatus, Page


def png_bytes(height: int = 60, width: int = 80, value: int = 255) -> bytes:
    image = np.full((height, width), value, dtype=np.uint8)
    cv2.line(image, (10, 10), (width - 10, height - 10), 0, 3)
    return cv2.imencode(".png", image)[1].tobytes()


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        for name in extracted or ():
            self.groups.add(Group.objects.get_or_create(name=name)[0])


class DocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Document

    owner = factory.SubFactory(UserFactory)
    original_name = factory.Sequence(lambda n: f"scan{n}.png")
    file_type = "png"
    status = DocumentStatus.DONE
    file = factory.LazyFunction(lambda: ContentFile(png_bytes(), name="original"))
    size = factory.LazyAttribute(lambda d: len(png_bytes()))
    sha256 = factory.LazyFunction(lambda: hashlib.sha256(png_bytes()).hexdigest())


class PageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Page

    document = factory.SubFactory(DocumentFactory)
    index = factory.Sequence(lambda n: n)
    width = 80
    height = 60
    image = factory.LazyFunction(lambda: ContentFile(png_bytes(), name="page.png"))


class FieldFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Field

    page = factory.SubFactory(PageFactory)
    index = factory.Sequence(lambda n: n)
    kind = FieldKind.DIGITS
    bbox = [1, 2, 30, 10]
    value = "42"
    characters = [
        {"char": "4", "confidence": 0.99, "alternatives": [["9", 0.01]]},
        {"char": "2", "confidence": 0.97, "alternatives": [["7", 0.02]]},
    ]
    confidence = 0.97
    status = FieldStatus.ACCEPTED


def api_for(user):
    """An API client authenticated as `user` (anonymous for None)."""
    from rest_framework.test import APIClient

    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client
