"""Rasa NLU components of the plugin (registered with ``DefaultV1Recipe``).

Rasa finds them by module path in ``config.yml`` (``components.<module>.<Class>``).
"""
