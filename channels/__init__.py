"""Rasa input channels of the plugin.

Rasa finds them by module path in ``credentials.yml`` (``channels.<module>.<Class>``).
Importing this package masks openids and mobile numbers in every log record of the
Rasa process (``privacy.masking``) and checks the action server's answers with a
validator built once (``channels.action_validation``): Rasa imports it before it
serves a request.
"""

from channels import action_validation
from privacy import masking

masking.install()
action_validation.install()
