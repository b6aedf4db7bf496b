"""The NLU model, free of Rasa: one fine-tuned encoder, three heads.

Intent, sentiment and entity heads, lexical experts, training and fingerprints
(torch, transformers); ``components.bert_intent_sentiment`` is its GraphComponent
adapter.
"""
