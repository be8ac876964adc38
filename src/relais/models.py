"""Imports every table so that metadata is complete (Alembic, tests)."""

from __future__ import annotations


def load_all_models() -> None:
    from relais.channels.callback import models as _callback
    from relais.channels.email import models as _email
    from relais.contacts import models as _contacts
    from relais.conversations import models as _conversations
    from relais.identity import models as _identity
    from relais.integrations import models as _integrations
    from relais.routing import models as _routing

    del _callback, _contacts, _conversations, _email, _identity, _integrations, _routing
