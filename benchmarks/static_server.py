"""The download floor: nginx (Debian package) serving the same file over loopback.

The configuration is written into a temporary folder and nginx runs as a
process of its own on a free port, with sendfile on: what a well-tuned static
file server gives the same client on the same machine.
"""

import os
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

from devtools.local_services import free_port, wait_until_answering

CONFIG = """\
{user}
daemon off;
worker_processes {workers};
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        location / {{ }}
    }}
}}
"""


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx",) if os.access(path, os.X_OK)), None
    )


@contextmanager
def nginx_serving(file: Path, workers: int):
    """nginx serving `file`'s folder; yields the file's URL."""
    binary = nginx_binary()
    if binary is None:
        raise SystemExit("nginx is needed for the download floor: apt-get install nginx")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="wps-bench-nginx-") as folder:
        config = Path(folder) / "nginx.conf"
        # As root, nginx would drop its workers to `nobody`, who may not read the file.
        user = "user root;" if os.geteuid() == 0 else ""
        config.write_text(
            CONFIG.format(user=user, workers=workers, folder=folder, port=port, root=file.parent)
        )
        process = subprocess.Popen(
            [binary, "-c", str(config), "-p", folder, "-e", f"{folder}/error.log"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}/{file.name}"
        try:
            wait_until_answering(url, process, "nginx", seconds=30, method="HEAD", interval=0.1)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=30)
