"""The contract's resources as the mock serves them, and the behaviour a declaration cannot express."""
