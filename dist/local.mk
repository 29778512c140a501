# make install: the layout of an Apache RocketMQ distribution under $(prefix) (default
# /opt/rocketmq, which is then ROCKETMQ_HOME): bin/ (the programs), conf/ (commented
# broker.conf and namesrv.conf, plain_acl.yml; files already there are kept), and
# lib/systemd/system/ (units naming this install's paths; `make install
# systemdunitdir=/etc/systemd/system` puts them where systemd looks).
rmqconfdir = $(prefix)/conf
RMQ_CONF = conf/broker.conf conf/namesrv.conf conf/plain_acl.yml
EXTRA_DIST += $(RMQ_CONF)

install-data-local:
	$(MKDIR_P) '$(DESTDIR)$(rmqconfdir)'
	@for f in $(RMQ_CONF); do \
	  b=`basename $$f`; \
	  if test -f '$(DESTDIR)$(rmqconfdir)'/$$b; then echo "keeping $(rmqconfdir)/$$b"; \
	  else echo " $(INSTALL_DATA) $$f '$(DESTDIR)$(rmqconfdir)/$$b'"; \
	    $(INSTALL_DATA) $(srcdir)/$$f '$(DESTDIR)$(rmqconfdir)'/$$b || exit 1; fi; \
	done

uninstall-local:
	for f in $(RMQ_CONF); do rm -f '$(DESTDIR)$(rmqconfdir)'/`basename $$f`; done

systemdunitdir = $(prefix)/lib/systemd/system
systemdunit_DATA = dist/systemd/rocketmq-namesrv.service dist/systemd/rocketmq-broker.service
EXTRA_DIST += dist/systemd/rocketmq-namesrv.service.in dist/systemd/rocketmq-broker.service.in
CLEANFILES = $(systemdunit_DATA)
RMQ_UNIT_SED = sed -e 's|@bindir[@]|$(bindir)|g' -e 's|@prefix[@]|$(prefix)|g' -e 's|@rmqconfdir[@]|$(rmqconfdir)|g'

dist/systemd/rocketmq-namesrv.service: $(srcdir)/dist/systemd/rocketmq-namesrv.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) dist/systemd && $(RMQ_UNIT_SED) $(srcdir)/dist/systemd/rocketmq-namesrv.service.in > $@
dist/systemd/rocketmq-broker.service: $(srcdir)/dist/systemd/rocketmq-broker.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) dist/systemd && $(RMQ_UNIT_SED) $(srcdir)/dist/systemd/rocketmq-broker.service.in > $@

# The installed layout, started from the installed files (tests/install/test_install.sh).
TESTS += tests/install/test_install.sh
dist_check_SCRIPTS += tests/install/test_install.sh
