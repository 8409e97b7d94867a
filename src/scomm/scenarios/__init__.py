"""Built-in scenario files (YAML), read by `scomm.synth.scenario.load_scenario`."""
