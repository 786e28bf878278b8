"""Scheduled work that runs by itself, once: voucher expiry, reminders, month-end settlement
reminders and clean-up, in one scheduler process (``flask scheduler run``). Each run takes a lock
(a PostgreSQL advisory lock; on SQLite the one "running" row a unique index allows), is recorded in
``job_run`` and retried when it fails. Nothing in the domains imports this package."""
