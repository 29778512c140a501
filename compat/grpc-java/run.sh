#!/usr/bin/env bash
# compat/grpc-java in CI: every scenario of run-suite.sh against our broker (they all pass
# against it and against Apache 5.3.3, see README.md).
exec bash "$(dirname "$0")/run-suite.sh" "$@"
