"""The Darwin Core tables GBIF and the IPT know, written in both profiles: computed views of the
data (a model's lossless home is its Antenna table), one module per archive file."""

from dwca_port.tables.darwin_core import event, humboldt, measurement, multimedia, occurrence

TABLES = (event.TABLE, occurrence.TABLE, humboldt.TABLE, measurement.TABLE, multimedia.TABLE)
