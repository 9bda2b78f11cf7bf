"""Privacy tasks: retention with anonymisation (DESIGN §10), daily from beat."""
from __future__ import annotations

import logging

from celery import shared_task

from api.privacy import retention
from workers.tasks import TRANSIENT

log = logging.getLogger(__name__)


@shared_task(name="privacy.retention", autoretry_for=TRANSIENT, retry_backoff=True,
             retry_backoff_max=600, max_retries=5)
def privacy_retention() -> int:
    """Anonymise closed reports older than RETENTION_DAYS, a transaction per batch (a retry
    resumes where the last committed batch stopped)."""
    count = retention.run()
    if count:
        log.info("retention anonymised %d report(s)", count)
    return count
