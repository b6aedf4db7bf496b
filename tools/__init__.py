"""Build and development tools, never imported at run time.

Offline assets, converters and the WeChat simulator.
"""
