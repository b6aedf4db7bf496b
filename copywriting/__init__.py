"""Marketing copy: briefs, generators and the advertising-law filter.

Interchangeable generators (template, transformers, OpenAI) behind one protocol;
every draft passes the filter. Plain Python, no Rasa.
"""
