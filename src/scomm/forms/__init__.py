"""Forms ICE served on jails: the detainer forms by period (`detainers`)."""
