"""One module per metadata source. Each turns a source's answer into the one
internal record (:mod:`citetool.record`); fetching and mapping are separate
functions so the mapping can be tested on recorded responses alone."""
