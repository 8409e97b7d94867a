"""scomm over HTTP: the agencies' interface (FastAPI), beside the simulator and below the
command line; it imports the product (`scomm.system` and below), never the simulator.

`create_app(service)` builds the app around a `Service` (a running `System`, its token keys);
`scomm serve` runs it on uvicorn."""
