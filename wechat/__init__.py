"""The WeChat official-account protocol, free of Rasa.

Signatures, AES crypto, safe XML, message mapping, passive-reply rendering, the
customer-service API and de-duplication; ``channels.wechat`` is the Rasa input
channel built on it.
"""
