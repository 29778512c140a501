# command-line tools
bin_PROGRAMS += mqshutdown
mqshutdown_SOURCES = src/tools/mqshutdown.c
