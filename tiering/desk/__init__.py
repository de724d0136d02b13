"""The review desk: a small web application, served by ``tiering serve``, over the audit store.

Analysts sign in, browse a recorded run, read any firm's explanation (the explainer of ``explain`` fed the run's
stored trace and rule texts), record overrides with evidence, and propose and approve a select run's cultivation
list. Every write is a record of the audit chain (:mod:`tiering.audit.store`, :mod:`tiering.audit.lists`); nothing
here evaluates a rule, a standing or an explanation of its own.

    users.py    local accounts: roles, argon2 password hashes, sign-in throttling
    security.py sessions, CSRF tokens, roles on every route, response headers
    queries.py  the read-only, parameterised SQL the pages run against the store
    app.py      routes and pages (Starlette + Jinja2)
"""
