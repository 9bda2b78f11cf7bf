"""Address text for a point: a configurable (self-hosted) Nominatim, else "ward, province".

Routing must never wait long on, or fail because of, the geocoder: a short
timeout and any error fall back to the offline text from the unit list.
"""
from __future__ import annotations

import logging

from geopy.exc import GeopyError
from geopy.geocoders import Nominatim

log = logging.getLogger(__name__)
USER_AGENT = "ioc-phan-anh/1.0 (provincial IOC citizen reports)"


class AddressLookup:
    def __init__(self, nominatim_url: str | None, timeout: float = 2.0):
        self._geocoder = None
        if nominatim_url:
            scheme, _, domain = nominatim_url.rstrip("/").partition("://")
            self._geocoder = Nominatim(user_agent=USER_AGENT, domain=domain, scheme=scheme or "https",
                                       timeout=timeout)

    def address(self, lat: float, lon: float, fallback: str) -> tuple[str, str]:
        """(address, source) where source is "nominatim" or "offline"."""
        if self._geocoder is not None:
            try:
                place = self._geocoder.reverse((lat, lon), language="vi", zoom=18, exactly_one=True)
                if place is not None and place.address:
                    return place.address[:500], "nominatim"
            except (GeopyError, ValueError, OSError) as exc:
                log.warning("reverse geocoding failed, using the offline address: %s", exc)
        return fallback, "offline"
