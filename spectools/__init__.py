"""Build-time tooling for the Vozo OpenAPI spec: page extraction, merge, overlay, update and change report.

Lives beside ``openapi/`` and is never shipped in the ``vozo`` distribution.
"""
