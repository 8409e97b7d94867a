"""Built-in scenario files (YAML), read by `scomm.sim.synth.scenario.load_scenario`."""
