"""The message bus: transactional outbox, at-least-once dispatcher, idempotent delivery."""
