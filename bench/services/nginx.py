"""nginx from Debian's package, with its echo module: ``/sleep`` answers after 20 ms (``echo_sleep``) and carries
no Server-Timing header, as most real servers; ``/keepalive`` closes a connection every 10 requests.
``IOBENCH_NGINX_URL`` says where."""

from __future__ import annotations

import glob
import subprocess
from pathlib import Path

from bench.services.base import Running, Service, Unavailable, find, foreground, register_service

CONFIG = """\
daemon off;
master_process on;
worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log warn;
{load}
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {workdir}/body;
    proxy_temp_path {workdir}/proxy;
    fastcgi_temp_path {workdir}/fastcgi;
    uwsgi_temp_path {workdir}/uwsgi;
    scgi_temp_path {workdir}/scgi;
    keepalive_requests 100000;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location /sleep {{ echo_sleep 0.02; echo ok; }}
        location /keepalive {{ keepalive_requests 10; echo_sleep 0.02; echo ok; }}
        location / {{ echo ok; }}
    }}
}}
"""


def echo_module() -> str | None:
    """Where Debian's libnginx-mod-http-echo put the echo module, or None."""
    return next(iter(sorted(glob.glob("/usr/lib/nginx/modules/ngx_http_echo_module.so"))), None)


class Nginx(Service):
    """nginx on 127.0.0.1 with a 20 ms ``echo_sleep``."""

    name = "nginx"
    default_port = 28080
    port_variable = "IOBENCH_NGINX_PORT"

    def missing(self) -> str | None:
        """nginx and its echo module, from Debian's nginx-light (or nginx) and libnginx-mod-http-echo."""
        if find("nginx", "/usr/sbin/nginx") is None:
            return "nginx is not installed (Debian: apt-get install nginx-light libnginx-mod-http-echo)"
        if echo_module() is None:
            return "nginx's echo module is not installed (Debian: apt-get install libnginx-mod-http-echo)"
        return None

    def launch(self, workdir: Path, port: int) -> Running:
        """nginx in the foreground of a child process, with a configuration of its own."""
        binary = find("nginx", "/usr/sbin/nginx")
        assert binary is not None
        config = workdir / "nginx.conf"
        config.write_text(CONFIG.format(workdir=workdir, port=port, load=f"load_module {echo_module()};"))
        tested = subprocess.run([binary, "-t", "-c", str(config), "-p", str(workdir)], capture_output=True, text=True)
        if tested.returncode:
            raise Unavailable(f"nginx: the configuration was refused: {tested.stderr.strip()[-300:]}")
        command = [binary, "-c", str(config), "-p", str(workdir)]
        return foreground(self.name, command, workdir, port, {"IOBENCH_NGINX_URL": f"http://127.0.0.1:{port}"})


NGINX = register_service(Nginx())
