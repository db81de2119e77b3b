#!/usr/bin/python3
"""ejabberd (Debian's package, scripts/install-bench-deps.sh) for the comparison: its own
Erlang node (bench<port>@localhost, the port when the folder was made), config, mnesia spool, certificate, logs and cookie in
`workdir`, c2s STARTTLS on 127.0.0.1:<port>, pinned to one core with one scheduler.

It is started with the package's own `ejabberdctl foreground`, told where everything is by a
generated ejabberdctl.cfg, and run as the calling user (root here) instead of the package's
`ejabberd` user. No epmd: the node's distribution port (which ejabberdctl needs) is one free
port picked at each start (ejabberdctl's ERL_DIST_PORT, loopback only), so nothing is left
running after stop() and nothing clashes with a system node.

Accounts are made with ejabberdctl (`import_piefxis` of a generated XEP-0227 file), which needs
the node running: create_accounts() works after start() and, if the server is not running,
starts it for the time it takes (unpinned) and stops it again.

    bench/compare/ejabberd_server.py           # smoke test: start, 200 accounts, bench, stop

The certificate helper and the smoke test are prosody_server.py's (same folder).
"""
import atexit
import base64
import concurrent.futures
import hashlib
import hmac
import itertools
import os
import pathlib
import resource
import secrets
import signal
import socket
import subprocess
import time
from xml.sax.saxutils import quoteattr

from prosody_server import _smoke, make_certificate, _tail

EJABBERDCTL = "/usr/sbin/ejabberdctl"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _scram_user(name: str, password: str, iterations: int, salt_bytes: int) -> str:
    """One <user> of a XEP-0227 file with SCRAM-SHA-1 credentials (RFC 5802), as ejabberd
    23.01's export_piefxis writes them: its records keep each key base64-encoded, and the
    export encodes that once more (the import decodes once), so each value is base64 twice."""
    salt = os.urandom(salt_bytes)
    salted = hashlib.pbkdf2_hmac("sha1", password.encode(), salt, iterations)
    stored_key = hashlib.sha1(hmac.new(salted, b"Client Key", "sha1").digest()).digest()
    server_key = hmac.new(salted, b"Server Key", "sha1").digest()

    def b64twice(raw):
        return base64.b64encode(base64.b64encode(raw)).decode()
    return (f"<user name={quoteattr(name)}><scram-credentials xmlns='urn:xmpp:pie:0#scram' "
            f"mechanism='SCRAM-SHA-1'><iter-count>{iterations}</iter-count><salt>{b64twice(salt)}</salt>"
            f"<server-key>{b64twice(server_key)}</server-key><stored-key>{b64twice(stored_key)}</stored-key>"
            f"</scram-credentials></user>")


class EjabberdServer:
    name = "ejabberd"
    # Erlang VM flags. One normal and one dirty-CPU scheduler for the one core the VM is
    # pinned to (taskset pins every thread; the VM would otherwise size its pools from the
    # whole machine). Schedulers do not spin while idle (+sbwt none ...): the default
    # busy-wait burns CPU time that /proc would count as work.
    VM_FLAGS = "+S 1:1 +SDcpu 1:1 +sbwt none +sbwtdcpu none +sbwtdio none"

    def __init__(self, workdir: pathlib.Path, port: int, domain: str = "localhost"):
        self.workdir = pathlib.Path(workdir).resolve()
        self.port, self.domain = port, domain
        self.etc = self.workdir / "etc"
        self.spool = self.workdir / "spool"   # mnesia
        self.logs = self.workdir / "logs"     # ejabberd.log, error.log, crash dumps
        for d in (self.workdir, self.etc, self.spool, self.logs):
            d.mkdir(parents=True, exist_ok=True)
        self.console = self.workdir / "ejabberd.out"
        self.process = None   # ejabberdctl (bash), whose child is beam.smp
        self._beam = None
        atexit.register(self.stop)  # not left running if the harness dies of an exception
        # The Erlang cookie: erl reads $HOME/.erlang.cookie, and HOME is the workdir for the
        # server and for every ejabberdctl call, so root's own cookie is never used or made.
        cookie = self.workdir / ".erlang.cookie"
        if not cookie.exists():
            cookie.write_text(secrets.token_hex(16))
            cookie.chmod(0o400)
        # The node name: bench<port>@localhost when the folder is new, and kept with the
        # folder, as mnesia's data belongs to the node that wrote it (a folder reused with
        # another port keeps its accounts). No epmd is involved, so no clash with other nodes.
        node_file = self.workdir / "node-name"
        if not node_file.exists():
            node_file.write_text(f"bench{port}@localhost\n")
        self.node = node_file.read_text().strip()
        self.dist_port = None  # picked at each start
        key, cert = make_certificate(self.workdir, domain)
        pem = self.workdir / "server.pem"  # ejabberd wants key and certificate in one file
        pem.write_bytes(key.read_bytes() + cert.read_bytes())
        pem.chmod(0o600)
        (self.etc / "ejabberd.yml").write_text(self._config(pem))
        # ejabberdctl points ERL_INETRC at the config folder; as Debian's /etc/ejabberd/inetrc.
        (self.etc / "inetrc").write_text('{lookup,["file","native"]}.\n'
                                         '{host,{127,0,0,1}, ["localhost","hostalias"]}.\n'
                                         '{file, resolv, "/etc/resolv.conf"}.\n')

    def _env(self) -> dict:
        env = dict(os.environ)
        env["HOME"] = str(self.workdir)
        return env

    def _ctl_config(self) -> str:
        return f"""# Generated by bench/compare/ejabberd_server.py: read (sourced) by /usr/sbin/ejabberdctl.
# Run as the calling user (root) rather than su to the package's ejabberd user: the folder
# belongs to the harness. (ejabberdctl picks EXEC_CMD before reading this file.)
EXEC_CMD=as_current_user
ERLANG_NODE={self.node}
# No epmd: the node listens for ejabberdctl on this port only (loopback), and ejabberdctl
# connects to it there; nothing is registered with, or left in, a shared epmd.
ERL_DIST_PORT={self.dist_port}
EJABBERD_CONFIG_PATH={self.etc / 'ejabberd.yml'}
EJABBERD_PID_PATH={self.workdir / 'ejabberd.pid'}
CONTRIB_MODULES_PATH={self.workdir / 'contrib'}
EJABBERD_BYPASS_WARNINGS=true
# Package defaults kept: POLL=true, ERL_MAX_PORTS=32000, ERL_PROCESSES=250000.
ERL_OPTIONS="{self.VM_FLAGS} -kernel inet_dist_use_interface {{127,0,0,1}} -env ERL_CRASH_DUMP_BYTES 0"
"""

    def _config(self, pem) -> str:
        return f"""# Generated by bench/compare/ejabberd_server.py for the server comparison.
# Same terms as Starling and Prosody: c2s STARTTLS required on one loopback port, TLS 1.2+,
# SCRAM-SHA-1 (scram password storage), the modules Starling has, no MAM/carbons/MUC/HTTP/s2s,
# no rate limiting. Changes from Debian's /etc/ejabberd/ejabberd.yml are marked CHANGED.

hosts:
  - "{self.domain}"

# CHANGED: warnings and errors only (Debian: info); logs go to the folder (ejabberdctl --logs).
loglevel: warning
log_rotate_count: 0

# CHANGED: a self-signed EC P-256 certificate made by openssl for {self.domain}.
certfiles:
  - "{pem}"
# CHANGED: never try ACME for a host the certificate does not cover.
acme:
  auto: false

# TLS as Debian's default: 1.2 or newer (1.3 is negotiated), its cipher string.
c2s_ciphers: "HIGH:!aNULL:!eNULL:!3DES:@STRENGTH"
c2s_protocol_options:
  - "no_sslv3"
  - "no_tlsv1"
  - "no_tlsv1_1"
  - "cipher_server_preference"
  - "no_compression"

# CHANGED: only the c2s STARTTLS listener, on loopback. Debian also has direct TLS (5223), s2s
# (5269), HTTP/BOSH/WebSocket/API (5443), web admin (5280), STUN (3478) and MQTT (1883).
listen:
  -
    port: {self.port}
    ip: "127.0.0.1"
    module: ejabberd_c2s
    starttls_required: true
    # 256 KiB as Debian's default and Starling's.
    max_stanza_size: 262144
    # CHANGED: no traffic shaping (Debian: c2s_shaper, 3,000 B/s for non-admins).
    shaper: none
    access: c2s
    # CHANGED: a large queue before a c2s process is stopped (default 10,000).
    max_fsm_queue: 1000000
    # CHANGED: ejabberd's accept queue is 5 by default; with 200 logins in flight the kernel
    # then reset connections (Starling listens with the system's maximum, 4096).
    backlog: 4096

# CHANGED: no server-to-server (no listener, and outgoing refused).
s2s_access: s2s

disable_sasl_mechanisms:
  - "digest-md5"
  - "X-OAUTH2"
auth_method: internal
# SCRAM keys are stored, not passwords (as Debian's default); SHA-1, so SCRAM-SHA-1 is offered.
auth_password_format: scram
auth_scram_hash: sha
# Storage: mnesia (the default), in the folder (ejabberdctl --spool).

acl:
  local:
    user_regexp: ""
  loopback:
    ip:
      - 127.0.0.0/8
      - ::1/128

access_rules:
  local:
    allow: local
  c2s:
    allow: all
  s2s:
    deny: all

api_permissions:
  "console commands":
    from:
      - ejabberd_ctl
    who: all
    what: "*"

# CHANGED: no shapers at all (Debian defines normal 3,000 B/s and fast).
shaper_rules:
  # As Debian's default and Starling's max_sessions_per_account.
  max_user_sessions: 10
  # CHANGED: 1,000 for everyone, as Starling's offline max_messages (Debian: 100, admins 5,000).
  max_user_offline_messages: 1000

modules:
  mod_disco: {{}}
  mod_ping: {{}}
  mod_version: {{}}
  mod_time: {{}}
  mod_roster:
    versioning: true
  mod_vcard:
    search: false
  mod_private: {{}}
  mod_offline:
    access_max_user_messages: max_user_offline_messages
  mod_last: {{}}
  mod_blocking: {{}}
  mod_privacy: {{}}   # mod_blocking depends on it
  # CHANGED: not loaded, though Debian's default has them: mod_fail2ban (auth failure
  # throttling), mod_pres_counter (presence rate limit), mod_carboncopy, mod_stream_mgmt,
  # mod_client_state, mod_caps, mod_pubsub (PEP), mod_mam, mod_muc, mod_muc_admin, mod_bosh,
  # mod_http_api, mod_mqtt, mod_push, mod_push_keepalive, mod_stun_disco, mod_shared_roster,
  # mod_announce, mod_adhoc, mod_configure, mod_admin_extra, mod_avatar, mod_vcard_xupdate,
  # mod_sic, mod_s2s_dialback.
"""

    def version(self) -> str:
        r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "ejabberd"], capture_output=True, text=True)
        v = r.stdout.strip()
        if not v:
            return "?"
        return v.split(":", 1)[-1].split("-", 1)[0]  # 23.01-1 -> 23.01

    def ctl(self, *args, timeout: float = 900, check: bool = True, no_timeout: bool = False) \
            -> subprocess.CompletedProcess:
        """Runs ejabberdctl against this node."""
        r = subprocess.run([EJABBERDCTL, "--config-dir", str(self.etc), "--logs", str(self.logs),
                            "--spool", str(self.spool), *(["--no-timeout"] if no_timeout else []),
                            *map(str, args)],
                           capture_output=True, text=True, timeout=timeout, env=self._env(),
                           stdin=subprocess.DEVNULL)
        if check and r.returncode != 0:
            raise RuntimeError(f"ejabberdctl {' '.join(map(str, args[:1]))} failed ({r.returncode}): "
                               f"{r.stdout[-2000:]} {r.stderr[-2000:]}")
        return r

    # --- accounts ---------------------------------------------------------------------------

    # True: the import file carries SCRAM-SHA-1 credentials computed here (see
    # create_accounts); False: it carries the password and ejabberd hashes each account itself,
    # ~14 ms an account on its one scheduler (20,000 accounts: 284 s).
    PRECOMPUTE_SCRAM = True
    SCRAM_ITERATIONS = 4096   # ejabberd_auth:password_to_scram/2's count
    SCRAM_SALT_BYTES = 16     # and its salt length

    def create_accounts(self, prefix: str, count: int, password: str, layout=None) -> None:
        """<prefix>1..<prefix><count>@domain with `password`, made by `ejabberdctl
        import_piefxis` (ejabberd's XEP-0227 import) of a generated file. Accounts that exist
        are left as they are. Needs the node running (see module doc). With a PresenceLayout,
        each account's roster goes in the same file (XEP-0227 roster items, all "both").

        ejabberd's own SCRAM derivation is Erlang code on the VM's one scheduler, so the file
        carries each account's SCRAM-SHA-1 credentials, derived here with hashlib on every
        core: a random 16-byte salt per account and 4,096 iterations, the same as ejabberd
        makes at registration, in the <scram-credentials> form its export_piefxis writes. The
        stored records are the same as registration would store (PRECOMPUTE_SCRAM = False
        puts the password in the file instead and lets ejabberd derive them)."""
        temporary = not self.running()
        if temporary:
            self.start(None)
        try:
            # import_piefxis stops at the first account that exists: leave those out.
            existing = set(self.ctl("registered_users", self.domain).stdout.split())
            names = [n for n in (f"{prefix}{i}" for i in range(1, count + 1)) if n.lower() not in existing]
            if not names:
                return
            # Passwords other than printable ASCII would need SASLprep first: ejabberd does it.
            precompute = self.PRECOMPUTE_SCRAM and password.isascii() and password.isprintable()
            if precompute:
                with concurrent.futures.ProcessPoolExecutor(os.cpu_count() or 1) as pool:
                    users = list(pool.map(_scram_user, names, itertools.repeat(password),
                                          itertools.repeat(self.SCRAM_ITERATIONS),
                                          itertools.repeat(self.SCRAM_SALT_BYTES), chunksize=500))
            else:
                pw = quoteattr(password)
                users = [f"<user name={quoteattr(n)} password={pw}/>" for n in names]
            if layout is not None:
                rosters = layout.rosters()
                def with_roster(name, user):
                    items = "".join(f"<item jid={quoteattr(c + '@' + self.domain)} subscription='both'/>"
                                    for c in rosters.get(name, []))
                    if not items:
                        return user
                    query = f"<query xmlns='jabber:iq:roster'>{items}</query></user>"
                    return user.replace("</user>", query) if user.endswith("</user>") else user[:-2] + ">" + query
                users = [with_roster(n, u) for n, u in zip(names, users)]
            path = self.workdir / f"accounts-{prefix}-{count}.xml"
            with open(path, "w") as f:
                f.write("<?xml version='1.0' encoding='UTF-8'?>\n"
                        "<server-data xmlns='urn:xmpp:pie:0'>\n"
                        f"<host jid={quoteattr(self.domain)}>\n")
                f.write("\n".join(users))
                f.write("\n</host>\n</server-data>\n")
            # --no-timeout: ejabberdctl otherwise gives up on a command after 60 s.
            r = self.ctl("import_piefxis", path, no_timeout=True)
            path.unlink()
            out = (r.stdout + r.stderr).strip()
            if out:
                raise RuntimeError(f"ejabberdctl import_piefxis: {out[-2000:]}")
        finally:
            if temporary:
                self.stop()

    # --- process ----------------------------------------------------------------------------

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, cpu) -> None:
        """Runs `ejabberdctl foreground-quiet` (the VM attached, console messages critical
        only; the log file gets warnings) pinned to `cpu` (None: not pinned), with the
        open-file soft limit raised to the hard limit; returns once the c2s port accepts
        connections."""
        if self.running():
            raise RuntimeError("ejabberd is already running")
        self.dist_port = _free_port()
        (self.etc / "ejabberdctl.cfg").write_text(self._ctl_config())
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        limit = "unlimited" if hard == resource.RLIM_INFINITY else str(hard)
        cmd = ["prlimit", f"--nofile={limit}:{limit}"]
        if cpu is not None:
            cmd += ["taskset", "-c", str(cpu)]
        cmd += [EJABBERDCTL, "--config-dir", str(self.etc), "--logs", str(self.logs), "--spool", str(self.spool),
                "foreground-quiet"]
        out = open(self.console, "ab")
        try:
            self.process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            cwd=self.workdir, env=self._env())
        finally:
            out.close()
        self._beam = None
        logs = [self.console, self.logs / "error.log", self.logs / "ejabberd.log"]
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"ejabberd exited with {self.process.returncode}:\n{_tail(logs)}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    pass
                listening = True
            except OSError:
                listening = False
            # The listener opens before the ejabberd application (mnesia tables included)
            # has finished starting; `ejabberdctl status` answers 0 once it has.
            if listening and self.ctl("status", check=False, timeout=30).returncode == 0:
                self._beam = self._find_beam()
                return
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"ejabberd did not listen on {self.port} within 60 s:\n{_tail(logs)}")
            time.sleep(0.1)

    def _children(self, pid: int) -> list:
        try:
            text = pathlib.Path(f"/proc/{pid}/task/{pid}/children").read_text()
        except OSError:
            return []
        return [int(p) for p in text.split()]

    def _find_beam(self) -> int:
        """The beam.smp process under the ejabberdctl shell (erl execs into it)."""
        todo = [self.process.pid]
        while todo:
            pid = todo.pop()
            try:
                exe = os.readlink(f"/proc/{pid}/exe")
            except OSError:
                exe = ""
            if os.path.basename(exe) == "beam.smp":
                return pid
            todo += self._children(pid)
        raise RuntimeError("no beam.smp process under ejabberdctl")

    def extra_ports(self) -> list:
        """TCP ports other than c2s that the server listens on: the Erlang distribution port
        (127.0.0.1 only) through which ejabberdctl talks to the node."""
        return [self.dist_port]

    def pid(self) -> int:
        """The beam.smp process (the Erlang VM that is the server), not the ejabberdctl shell."""
        if not self.running():
            raise RuntimeError("ejabberd is not running")
        if self._beam is None:
            self._beam = self._find_beam()
        return self._beam

    def stop(self) -> None:
        """SIGTERM to the VM (Erlang stops its applications, mnesia included, and exits),
        SIGKILL after 20 s; then the ejabberdctl shell exits too."""
        if self.process is None:
            return
        if self.process.poll() is None:
            beam = self._beam
            if beam is None:
                try:
                    beam = self._find_beam()
                except RuntimeError:
                    beam = None
            try:
                os.kill(beam or self.process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                for pid in (beam, self.process.pid):  # erl_child_setup exits with the VM
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except (ProcessLookupError, TypeError):
                        pass
                self.process.wait()
        self.process = None
        self._beam = None


if __name__ == "__main__":
    _smoke(EjabberdServer)
