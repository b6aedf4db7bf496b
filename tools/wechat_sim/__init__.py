"""Stand-ins for WeChat in development and tests.

A message-server simulator, a console, the customer-service API on loopback and a
local Sanic server helper.
"""
