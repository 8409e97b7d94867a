"""The domain core: records, messages, the case state machine and policy rules. No I/O."""
