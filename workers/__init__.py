"""Celery workers: thin named tasks over the domain services in ``api/``."""
