"""Custom actions of the Aurora WeChat assistant, served by ``rasa run actions``.

rasa-sdk imports every module of this package and registers each concrete
``Action`` subclass it finds, so shared bases here are abstract.
"""
