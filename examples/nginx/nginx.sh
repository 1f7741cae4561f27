#!/bin/sh
# nginx in the lab: writes a config for this run into a private temporary folder and runs nginx in the foreground
# (one worker), listening on PORT with `listen ... backlog=BACKLOG`, at most WORKER_CONNECTIONS connections open at once.
# Every request is answered "pong" and logged on stdout (the run folder keeps it) with the client's port and
# nginx's own times, so its log can be set beside halfway's fates.
# Usage: nginx.sh PORT BACKLOG WORKER_CONNECTIONS
set -eu
if [ $# -ne 3 ]; then
  echo "usage: nginx.sh PORT BACKLOG WORKER_CONNECTIONS" >&2
  exit 2
fi
port=$1 backlog=$2 connections=$3
command -v nginx >/dev/null || { echo "nginx.sh: nginx is not installed (apt-get install nginx-light)" >&2; exit 127; }
dir=$(mktemp -d /tmp/halfway-nginx.XXXXXX)
trap 'rm -rf "$dir"' EXIT
trap 'exit 143' TERM INT
cat >"$dir/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $dir/nginx.pid;
error_log stderr notice;
events {
    worker_connections $connections;
    multi_accept off;
}
http {
    # msec: when the response was logged (seconds since the epoch); connection_time: since nginx accepted the
    # connection; request_time: since the request's first byte. msec - connection_time is nginx's accept.
    log_format halfway 'port=\$remote_port connection=\$connection status=\$status msec=\$msec connection_time=\$connection_time request_time=\$request_time';
    access_log /dev/stdout halfway;
    client_body_temp_path $dir/body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    keepalive_timeout 0;
    server {
        listen $port backlog=$backlog;
        location / {
            return 200 "pong\n";
        }
    }
}
CONF
nginx -p "$dir" -c "$dir/nginx.conf" &
wait $!
