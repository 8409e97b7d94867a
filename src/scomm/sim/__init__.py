"""The synthetic world, its drivers, the demo, the realism study and the benchmarks:
the simulator, which sits above the product (scomm never imports it)."""
