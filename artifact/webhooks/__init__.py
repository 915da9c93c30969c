"""Webhooks: admins register receivers; events become signed, retried, logged deliveries."""
