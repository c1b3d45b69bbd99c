"""Business rule decisions: YAML rule files validated here and evaluated on durable_rules.

This is the only package that imports durable_rules.
"""

from .model import Decision, FactsError, Ruleset, RulesetError, copied_keys
from .parser import parse_ruleset
from .runtime import evaluate

__all__ = ["Decision", "FactsError", "Ruleset", "RulesetError", "copied_keys", "evaluate", "parse_ruleset"]
