"""systemd units for running satupintu as a service (`satupintu install-service`).

Four units, rendered from the options below (deploy/ holds them rendered with
the defaults, for reading and for copying by hand):

- satupintu.service         one `satupintu serve` (the SQLite office)
- satupintu@.service        one `satupintu serve --port %i` per instance (the Redis layout,
                            behind docs/deploy-nginx.conf: satupintu@8081, satupintu@8082)
- satupintu-backup.service  one `satupintu backup` into the backup folder, old ones pruned
- satupintu-backup.timer    runs it every evening

Each serve runs as its own unprivileged user; systemd makes the data folder
(StateDirectory, 0700, owned by that user), restarts a crashed server
(Restart=on-failure) and keeps it from writing anywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceOptions:
    """Where things are on the machine the units are for."""

    exec_path: str = "/opt/satupintu/.venv/bin/satupintu"
    user: str = "satupintu"
    config: str = "/etc/satupintu/config.toml"
    data_dir: str = "/var/lib/satupintu"
    host: str = "0.0.0.0"
    port: int = 8080
    backup_dir: str = "/var/backups/satupintu"
    backup_at: str = "*-*-* 21:30:00"  # after closing time, every day
    keep_days: int = 30


HARDENING = """\
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=no
UMask=0077"""


def _state_directory(o: ServiceOptions) -> str:
    """StateDirectory= wants a path below /var/lib; other folders are made by ExecStartPre."""
    if o.data_dir.startswith("/var/lib/"):
        return f"StateDirectory={o.data_dir.removeprefix('/var/lib/')}\nStateDirectoryMode=0700"
    return (
        f"ExecStartPre=+/usr/bin/install -d -m 0700 -o {o.user} -g {o.user} {o.data_dir}\n"
        f"ReadWritePaths={o.data_dir}"
    )


def _server_section(o: ServiceOptions, host: str, port: str) -> str:
    """[Service] and [Install] of a server unit; `port` may be systemd's instance, %i."""
    return f"""\
[Service]
Type=simple
User={o.user}
Group={o.user}
{_state_directory(o)}
WorkingDirectory={o.data_dir}
ExecStart={o.exec_path} serve --config {o.config} --data-dir {o.data_dir} \\
    --host {host} --port {port}
Restart=on-failure
RestartSec=2
TimeoutStopSec=15
{HARDENING}

[Install]
WantedBy=multi-user.target
"""


def serve_unit(o: ServiceOptions) -> str:
    """satupintu.service: the one server of a SQLite office."""
    return f"""\
# satupintu: one server process (SQLite office). Installed by `satupintu install-service`.
[Unit]
Description=satupintu queue server
After=network-online.target
Wants=network-online.target

{_server_section(o, o.host, str(o.port))}"""


def template_unit(o: ServiceOptions) -> str:
    """satupintu@.service: one of several servers on Redis, the instance name is its port."""
    return f"""\
# satupintu on Redis: one server per instance, the instance is the port
# (systemctl enable --now satupintu@8081 satupintu@8082), behind nginx
# (docs/deploy-nginx.conf). Installed by `satupintu install-service`.
[Unit]
Description=satupintu queue server on port %i (Redis store)
After=network-online.target redis-server.service
Wants=network-online.target

{_server_section(o, "127.0.0.1", "%i")}"""


def backup_unit(o: ServiceOptions) -> str:
    """satupintu-backup.service: one backup, then backups older than keep_days removed."""
    return f"""\
# satupintu: one backup of the running office (no downtime), old ones pruned.
# Started by satupintu-backup.timer. Installed by `satupintu install-service`.
[Unit]
Description=satupintu backup
After=satupintu.service

[Service]
Type=oneshot
User={o.user}
Group={o.user}
{_state_directory(o)}
ExecStartPre=+/usr/bin/install -d -m 0700 -o {o.user} -g {o.user} {o.backup_dir}
ReadWritePaths={o.backup_dir}
ExecStart={o.exec_path} backup --config {o.config} --data-dir {o.data_dir} {o.backup_dir}/
ExecStartPost=/usr/bin/find {o.backup_dir} -name satupintu-* -mtime +{o.keep_days} -delete
{HARDENING}
"""


def backup_timer(o: ServiceOptions) -> str:
    """satupintu-backup.timer: every evening (and at boot if the machine was off then)."""
    return f"""\
# satupintu: back up every day after closing time. Installed by `satupintu install-service`.
[Unit]
Description=satupintu daily backup

[Timer]
OnCalendar={o.backup_at}
Persistent=true
RandomizedDelaySec=300

[Install]
WantedBy=timers.target
"""


def units(o: ServiceOptions) -> dict[str, str]:
    """File name -> contents of every unit."""
    return {
        "satupintu.service": serve_unit(o),
        "satupintu@.service": template_unit(o),
        "satupintu-backup.service": backup_unit(o),
        "satupintu-backup.timer": backup_timer(o),
    }
