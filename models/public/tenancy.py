"""Users as the admin API shows them, and the tenant's home settings."""

from __future__ import annotations

from models.public.base import IsoTime, PublicModel
from models.tenancy import Tenant, User


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


class HomeSettingsPublic(PublicModel):
    """What the tenant calls home (`GET/PUT /api/v1/settings/home`): its networks, its sensors' addresses, and
    whether the private and unique-local ranges count as home."""

    home_networks: list[str]
    sensors: list[str]
    home_private: bool

    @classmethod
    def of(cls, tenant: Tenant) -> HomeSettingsPublic:
        """The home settings of a stored tenant (a bad stored value reads as its default)."""
        return cls(home_networks=tenant.home_networks, sensors=tenant.sensors, home_private=tenant.home_private)
