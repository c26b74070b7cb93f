from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView


class MeApi(APIView):
    """Who the caller is and which roles they hold: integrations use it to check a token."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses=inline_serializer(
            "Me",
            {
                "username": serializers.CharField(),
                "roles": serializers.ListField(child=serializers.CharField()),
            },
        )
    )
    def get(self, request):
        roles = sorted(request.user.groups.values_list("name", flat=True))
        return Response({"username": request.user.get_username(), "roles": roles})
