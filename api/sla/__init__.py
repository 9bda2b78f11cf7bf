"""Service-level deadlines: working calendars for citizens' reports."""
