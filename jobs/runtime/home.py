"""A tenant's home networks as the detection and drift engines take them (docs/detection.md step 3)."""

from __future__ import annotations

from jobs.engines.detect.home import HomeNetworks
from models.tenancy import Tenant


def home_of(tenant: Tenant) -> HomeNetworks:
    """What `tenant` calls home: its home networks, each sensor's address, and the private ranges unless the
    tenant turned them off (`home_private`). The settings are checked when saved and a bad stored value reads
    as its default, so this does not raise."""
    return HomeNetworks.of(tenant.home_networks, sensors=tenant.sensors, private=tenant.home_private)
