# mqconsole: the web console (admin protocol client + evhttp page server)
bin_PROGRAMS += mqconsole
mqconsole_SOURCES = src/console/console.h src/console/console_int.h src/console/mqconsole.c \
	src/console/console_http.c src/console/console_api.c src/console/console_render.c
nodist_mqconsole_SOURCES = src/console/console_assets.c
# only the client side: no broker or store code in the console
mqconsole_LDADD = src/tools/libadminclient.a src/remoting/libremoting.a src/common/libcommon.a $(SYS_LIBS)

# The page files become C arrays at build time (src/console/embed.c).
CONSOLE_ASSETS = index.html app.js style.css
EXTRA_DIST += $(CONSOLE_ASSETS:%=src/console/assets/%)
noinst_PROGRAMS += src/console/embed
src_console_embed_SOURCES = src/console/embed.c
src_console_embed_LDADD =
src/console/console_assets.c: src/console/embed$(EXEEXT) $(CONSOLE_ASSETS:%=$(srcdir)/src/console/assets/%)
	$(AM_V_GEN)$(MKDIR_P) src/console && \
	src/console/embed$(EXEEXT) $(srcdir)/src/console/assets $(CONSOLE_ASSETS) > $@-t && mv $@-t $@
CLEANFILES += src/console/console_assets.c

check_PROGRAMS += tests/console/test_console_render
TESTS += tests/console/test_console_render
tests_console_test_console_render_SOURCES = tests/console/test_console_render.c src/console/console_render.c
tests_console_test_console_render_LDADD = src/tools/libadminclient.a src/remoting/libremoting.a src/common/libcommon.a \
	$(SYS_LIBS) $(CHECK_LIBS)

check_PROGRAMS += tests/console/test_console_api
TESTS += tests/console/test_console_api
tests_console_test_console_api_SOURCES = tests/console/test_console_api.c tests/broker/broker_client.h
# the test runs the real programs
EXTRA_tests_console_test_console_api_DEPENDENCIES = mqconsole$(EXEEXT) mqnamesrv$(EXEEXT) mqbroker$(EXEEXT)
