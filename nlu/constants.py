"""Names shared by the NLU components, the channel and the actions.

Dependency-free on purpose: actions import it without pulling in torch.
"""

# Keys our NLU components add to a parsed message, next to Rasa's "intent" and
# "intent_ranking".
SENTIMENT = "sentiment"
SENTIMENT_RANKING = "sentiment_ranking"

# The customer's mood in one message; also the values of the ``sentiment`` slot.
SENTIMENT_LABELS = ("positive", "neutral", "negative")

# Key of the label in an NLU example's metadata (``metadata: {sentiment: ...}``).
SENTIMENT_METADATA_KEY = "sentiment"
