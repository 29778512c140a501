# ha module
noinst_LIBRARIES += src/ha/libha.a
src_ha_libha_a_SOURCES = src/ha/ha_placeholder.c
