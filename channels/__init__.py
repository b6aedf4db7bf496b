"""Rasa input channels of the plugin.

Rasa finds them by module path in ``credentials.yml`` (``channels.<module>.<Class>``).
Importing this package masks openids and mobile numbers in every log record of the
Rasa process (``privacy.masking``): Rasa imports it before it serves a request.
"""

from privacy import masking

masking.install()
