#!/usr/bin/env bash
# compat/apache5: Apache RocketMQ 5.3.3's own name server, broker and controller from Maven
# Central beside our mqnamesrv + mqbroker ($RMQ_BUILDDIR), driven by the 5.3.3 remoting client
# and admin: stores moved between the two brokers both ways, ACL 2.0 answers, controller mode,
# large tables registered in batches with both name servers.
# Ends with "compat/apache5: N passed, N failed" (../apache/maven-suite.sh).
cd "$(dirname "$0")" && exec bash ../apache/maven-suite.sh compat/apache5 900 "$@"
