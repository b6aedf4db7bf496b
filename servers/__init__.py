"""HTTP services that run beside the bot as their own processes.

Start one with ``python -m servers.<module>``.
"""
