"""The name and error type of ``BertIntentSentimentClassifier``, free of its graph code.

The modules that build its training data and check its config raise these too; they
live apart from the component so those modules need not import it (which would be
circular, as the component imports them).
"""

from rasa.shared.exceptions import RasaException

# The component's class name, as error messages give it.
COMPONENT_NAME = "BertIntentSentimentClassifier"


class BertIntentSentimentError(RasaException):
    """Training data or a saved model does not fit; the message says what to fix."""
