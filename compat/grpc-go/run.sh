#!/usr/bin/env bash
# compat/grpc-go in CI: every scenario of run-suite.sh against our broker (they all pass
# against it and against Apache 5.3.3, see README.md), with the broker under ACL 2.0
# (GRPC_AUTH=1): the scenarios sign their calls as a super user, and TestCredentialsRefused
# checks that unsigned and wrongly signed clients are refused; and with a second broker
# (GRPC_TWO_BROKERS=1) for TestTwoBrokersSendToBothAndConsumeAll.
GRPC_AUTH=1 GRPC_TWO_BROKERS=1 exec bash "$(dirname "$0")/run-suite.sh" "$@"
