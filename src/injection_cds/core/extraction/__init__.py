"""FHIR JSON -> facts, one module per kind of resource (no I/O); ``core/extract.py`` runs them."""
