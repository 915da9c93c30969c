"""The webhooks' services. ``on_event`` is the dispatcher an event source calls in its unit of
work; ``artifact.webhooks.jobs`` holds ``attempt`` and ``deliver_due``, which own theirs."""

from artifact.webhooks.services.dispatch import on_event

__all__ = ["on_event"]
