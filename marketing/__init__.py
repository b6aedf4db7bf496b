"""Marketing state: settings, the interaction store, tracking and lead scoring.

The store holds interactions, leads and opt-outs; beside it click tracking, lead
scoring and service recovery. Plain Python, no Rasa.
"""
