#!/usr/bin/env bash
# compat/grpc-python in CI: every scenario of run-suite.sh against our broker.
exec bash "$(dirname "$0")/run-suite.sh"
