#!/bin/sh
# Stands in for workerd (MINIFLARE_WORKERD_PATH) when bench/where.ts counts fsyncs: the worker's
# own workerd (wrangler starts it on port 0; its proxy gets the public port) runs under strace,
# which logs every fsync/fdatasync with its time and duration. --seccomp-bpf stops the process
# on those calls only, so the thousands of sends a second are not slowed down.
case "$*" in
*"entry=127.0.0.1:0 "*)
  exec /usr/bin/strace -f --seccomp-bpf -ttt -T -e trace=fsync,fdatasync \
    -o "$BENCH_STRACE_OUT" "$BENCH_WORKERD" "$@"
  ;;
esac
exec "$BENCH_WORKERD" "$@"
