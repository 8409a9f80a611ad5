"""Every change the local engine makes to moto, and nothing else: the registry
(registry.py), what the patched code calls into (hooks.py), and one module per change."""
