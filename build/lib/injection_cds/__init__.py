"""injection-cds: a CDS Hooks 2.0 service for injection documentation and billing.

The public surface is deliberately small: ``create_app`` (the Flask application factory, in
``injection_cds.web``) and ``call_service`` (one hook call without HTTP, in
``injection_cds.protocol``). Everything else is reached through its package.
"""
