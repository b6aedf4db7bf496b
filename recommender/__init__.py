"""Product recommendation: a content and collaborative hybrid over the catalog.

Plain Python, no Rasa; ``actions.recommendation_actions`` is its adapter and
``benchmarks.recsys_bench`` measures the same scoring on MovieLens.
"""
