"""Open enums: known values are members, unknown values still parse."""

from __future__ import annotations

import enum
from typing import Any


class OpenEnum(str, enum.Enum):
    """A string enum that tolerates values it does not know.

    ``Cls("NEW_VALUE")`` returns a pseudo-member whose ``value`` is the original string and
    whose ``known`` is False, so a new server-side value never breaks parsing and still
    round-trips unchanged.
    """

    @classmethod
    def _missing_(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return None
        pseudo = str.__new__(cls, value)
        pseudo._name_ = value
        pseudo._value_ = value
        return pseudo

    @property
    def known(self) -> bool:
        """Whether this value is one the SDK was built with."""
        return self._name_ in type(self).__members__

    def __str__(self) -> str:
        return str(self.value)


class SortDirection(OpenEnum):
    """Sort order of paginated results."""

    ASC = "ASC"
    DESC = "DESC"


class SortBy(OpenEnum):
    """Field paginated results are sorted by."""

    CREATED_AT = "createdAt"
    UPDATED_AT = "updatedAt"


class FilterMode(OpenEnum):
    """How a listing treats a category of items (built-in configurations, test events,
    successful events...): include them, exclude them, or return only them."""

    INCLUDE = "INCLUDE"
    EXCLUDE = "EXCLUDE"
    ONLY = "ONLY"
