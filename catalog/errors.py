"""The catalog's error type."""


class CatalogError(ValueError):
    """The catalog data is invalid; the message names the entry and the field."""
