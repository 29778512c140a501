#!/usr/bin/env bash
# compat/apache: Apache RocketMQ's own name server and broker (4.9.7) and official mqadmin /
# client (4.9.8), from Maven Central, beside our mqnamesrv + mqbroker ($RMQ_BUILDDIR).
# Ends with "compat/apache: N passed, N failed" (maven-suite.sh).
cd "$(dirname "$0")" && exec bash maven-suite.sh compat/apache 1200 "$@"
