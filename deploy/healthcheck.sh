#!/usr/bin/env bash
# Container healthcheck of a Tusk service (compose.yaml): exit 0 when the service in this container
# answers GET /health with 200, non-zero otherwise (503 while it cannot do its job, or no answer).
# The runtime image has no curl, so this speaks HTTP/1.0 over bash's /dev/tcp. Plain HTTP only: a
# service serving TLS (TUSK_TLS_*) needs a probe that speaks TLS (Kubernetes: httpGet scheme HTTPS).
set -u
port="${TUSK_HTTP_PORT:?TUSK_HTTP_PORT is not set}"
exec 3<>"/dev/tcp/127.0.0.1/${port}" || exit 1
printf 'GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
IFS= read -r -t 5 status <&3 || exit 1
[[ "${status}" == "HTTP/"*" 200 "* ]]
