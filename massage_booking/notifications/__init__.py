"""E-mail notifications through an outbox (DESIGN.md, "side effects after commit").

- compose.py  renders each message (plain text and HTML from templates/email/, .ics attachments); no health
              detail ever: times, place, names, counts, amounts and links only.
- outbox.py   what services call when something happens: one call queues the messages of one event, in the
              caller's transaction, once per dedupe key.
- sender.py   `flask send-outbox`: claims due messages one at a time (compare-and-swap), sends them over
              SMTP (or logs them when no MAIL_SERVER is set), retries with backoff.
"""
