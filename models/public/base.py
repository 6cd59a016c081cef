"""What every public model shares: a strict shape and the answers' time format."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, PlainSerializer, WithJsonSchema

_DATE_TIME = WithJsonSchema({"type": "string", "format": "date-time"})


def _iso(moment: datetime) -> str:
    return moment.isoformat()


# datetime.isoformat(), as the answers always had it (`+00:00`; pydantic's own format would write `Z`).
IsoTime = Annotated[datetime, PlainSerializer(_iso, return_type=str), _DATE_TIME]
# A time its producer already wrote as ISO 8601 text (engine and Redis answers); kept as it is.
IsoText = Annotated[str, _DATE_TIME]


class PublicModel(BaseModel):
    """The base of every answer: a key the model does not declare is an error, never silently dropped."""

    model_config = ConfigDict(extra="forbid")
