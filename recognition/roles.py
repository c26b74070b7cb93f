"""The roles of the platform, as Django groups."""

from enum import StrEnum


class Role(StrEnum):
    CLERK = "clerk"
    REVIEWER = "reviewer"
    ADMIN = "admin"
