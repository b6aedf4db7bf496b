"""The brand's catalog: products, promotions, campaigns and stores.

Read from ``data/catalog.yml``; plain Python, no Rasa: actions, the recommender and
the copy writer all read it.
"""
