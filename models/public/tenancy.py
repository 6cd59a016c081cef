"""Users as the admin API shows them."""

from __future__ import annotations

from models.public.base import IsoTime, PublicModel
from models.tenancy import User


class UserPublic(PublicModel):
    """A user as the API answers it (never the password hash)."""

    id: int
    email: str
    display_name: str
    role: str
    disabled: bool
    sso: bool
    created_at: IsoTime
    last_login_at: IsoTime | None

    @classmethod
    def of(cls, user: User) -> UserPublic:
        """The public view of a stored user."""
        return cls(id=user.id, email=user.email, display_name=user.display_name, role=user.role,
                   disabled=user.disabled, sso=user.oidc_subject is not None, created_at=user.created_at,
                   last_login_at=user.last_login_at)
