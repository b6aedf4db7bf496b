"""Custom actions of the Aurora WeChat assistant (``python -m actions.server``).

rasa-sdk imports every module of this package and registers each concrete
``Action`` subclass it finds, so shared bases here are abstract. Importing this
package masks openids and mobile numbers in every log record of the action server
(``privacy.masking``).
"""

from privacy import masking

masking.install()
