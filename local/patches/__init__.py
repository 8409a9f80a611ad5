"""Every change the local engine makes to moto, and nothing else: the registry
(registry.py), what the patched code calls into (hooks.py), and one module per change."""

from local.patches import batch_import

batch_import.load_ahead()  # before anything here imports moto's Step Functions parser
