"""The Vozo API client."""
