"""What the processes tell their operators: Prometheus metrics and JSON logs.

A plain package (no Rasa): ``metrics`` defines every instrument once,
``exposition`` renders them for a scrape, ``correlation`` follows one WeChat
message through the logs, ``json_logs`` switches a process to one JSON object
per line. The adapters (channel, NLU component, action server) observe into it.
"""
