"""Integrations for other systems: the CTI screen pop into a CRM (a URL template the desk opens)
and signed webhooks of task events (docs/api.md, "CTI for integrators")."""
