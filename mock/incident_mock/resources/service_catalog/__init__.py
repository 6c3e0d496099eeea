"""The catalog's behaviour module: catalog types and entries (v3, and the deprecated v2 over the same
tables), and the teams, which are the entries of the catalog's team type.

The engine keeps the two tables (`catalog_types`, `catalog_entries` in x-resources) and serves the v3 type
list and show from the declaration; everything else is here: `tables` writes the rows (lock, cap, text
budget), `schema_rules` checks attribute values against a type's schema and applies schema changes, `versions`
translates between the v3 shapes the tables hold and the v2 shapes, `handlers` serves the operations.
"""
