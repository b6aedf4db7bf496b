"""Personal data as PIPL expects: masked in logs, encrypted at rest, deletable."""
