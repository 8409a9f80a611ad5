"""Step Functions beyond moto: the TestState API (test_state.py) and the checks of its mocks
against botocore's models of the integrated APIs (mocks.py)."""
