"""Catalog: datasets and their files, file accession map, upload boxes."""
