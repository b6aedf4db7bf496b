"""The tiny BERT of the component tests, for the NLU benchmark scripts' tests."""

from tests.components.conftest import tiny_backbone

__all__ = ["tiny_backbone"]
