"""Build and development tools (assets, converters); never imported at run time."""
