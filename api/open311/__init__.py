"""Open311 GeoReport v2 server (DESIGN §8): the same reports, seen through the open standard.

Open311 has its own wire formats (JSON arrays or XML, ``{code, description}``
errors), so this package renders everything itself instead of going through the
/api/v1 envelope; every write still goes through ``api.reports.service``.
"""
