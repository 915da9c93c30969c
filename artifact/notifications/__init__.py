"""Notifications: domain events through a transactional outbox, processed by the job queue's
worker into mails (and, through registered consumers, webhooks)."""
