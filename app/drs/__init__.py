"""GA4GH DRS 1.5 at /ga4gh/drs/v1: the catalog's files as objects, datasets as bundles (ADR 28)."""
