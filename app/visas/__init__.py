"""Our grants as GA4GH Visas, signed with a key of their own (ADR 29)."""
