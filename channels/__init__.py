"""Rasa input channels of the plugin.

Rasa finds them by module path in ``credentials.yml`` (``channels.<module>.<Class>``).
"""
