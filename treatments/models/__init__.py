"""Treatments app models, split by sub-domain. Import models from here."""

__all__: list[str] = []
