"""The print agent against a real `satupintu serve`: jobs delivered, acknowledged,
redelivered after a disconnect, never printed twice.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import socketio

from printer.agent import PrintAgent
from printer.config import parse_spec
from satupintu import events
from tests.netcut import NetCut
from tests.printer.escpos_reader import read
from tests.printer.fake_printer import FakePrinter
from tests.serverproc import PASSWORD, ROOT, Api, ServerProcess, write_config

pytestmark = pytest.mark.slow
KIOSKS = ("K1", "K2", "K3", "K4", "K5")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("agent-server")
    path = write_config(workdir / "config.toml")
    text = path.read_text(encoding="utf-8")
    text = text[: text.index("[[kiosks]]")]
    for kiosk in KIOSKS:
        text += (
            f'[[kiosks]]\nid = "{kiosk}"\nname = "Kiosk {kiosk}"\n'
            'printer = { type = "agent", paper = "58" }\n\n'
        )
    path.write_text(text, encoding="utf-8")
    srv = ServerProcess(workdir, config_path=path)
    for kiosk in KIOSKS:
        srv.add_user(kiosk.lower(), "kiosk")
    srv.add_user("boss", "manager")
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def fake():
    printer = FakePrinter().start()
    yield printer
    printer.stop()


@pytest.fixture
def agents(server, fake, tmp_path):
    """Factory: a started in-process agent for a kiosk, printing to the fake printer."""
    started: list[PrintAgent] = []

    def start(kiosk: str, url: str = "", drop_acks: bool = False) -> PrintAgent:
        agent = PrintAgent(
            url or server.url,
            kiosk,
            parse_spec(f"network:127.0.0.1:{fake.port}", paper="58"),
            tmp_path / f"printed-{kiosk}.jsonl",
            username=kiosk.lower(),
            password=PASSWORD,
            heartbeat=0.5,
        )
        agent.drop_acks = drop_acks
        agent.start()
        assert agent.joined.wait(15), "agent did not join"
        started.append(agent)
        return agent

    yield start
    for agent in started:
        agent.stop()


def print_state(server, ticket_id: str, want: str, timeout: float = 15) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        info = requests.get(f"{server.url}/api/v1/tickets/{ticket_id}/print", timeout=5).json()
        if info["state"] == want or time.monotonic() > deadline:
            return info
        time.sleep(0.05)


def test_agent_prints_and_acknowledges(server, agents, fake):
    agents("K1")
    kiosk = Api(server, "k1")
    ticket = kiosk.issue("ktp")
    assert ticket["print"]["state"] == "queued"
    [job] = fake.wait_for_jobs(1)
    paper = read(job, "POS-5890")  # the server rendered it for K1's 58 mm paper
    assert paper.line(ticket["number"]).size > 2
    assert paper.qr == [f"{server.url}/t/{ticket['id']}"]
    assert print_state(server, ticket["id"], "printed")["state"] == "printed"
    boss = Api(server, "boss")
    status = {p["kiosk"]: p for p in boss.request("GET", "/printers").json()["printers"]}
    assert status["K1"]["state"] == "ok" and status["K1"]["seen"] > 0
    kiosk.close()
    boss.close()


def numbers_printed(fake) -> list[str]:
    """The ticket numbers on the paper the fake printer got, in order."""
    return [
        line.text for job in fake.printed() for line in read(job, "POS-5890").lines if line.size > 2
    ]


def print_another(server, kiosk: Api, fake, printed_before: int) -> dict:
    """Control: one more ticket through the same agent, waited for until it is on paper.

    The agent handles its jobs in order, so a duplicate of anything before it
    would be on paper by then too.
    """
    ticket = kiosk.issue("ktp")
    fake.wait_for_jobs(printed_before + 1, timeout=20)
    assert print_state(server, ticket["id"], "printed")["state"] == "printed"
    return ticket


def test_missed_jobs_are_redelivered_after_a_disconnect(server, agents, fake):
    proxy = NetCut(server.port)
    try:
        agent = agents("K2", url=proxy.url)
        proxy.cut()  # the kiosk PC loses the network
        deadline = time.monotonic() + 15
        while agent.joined.is_set() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not agent.joined.is_set(), "the agent did not notice the cut"
        kiosk = Api(server, "k2")  # the kiosk's screen still reaches the server
        tickets = [kiosk.issue("kk"), kiosk.issue("kk")]
        for t in tickets:  # stored, not printed: nobody could take the job
            assert print_state(server, t["id"], "queued", timeout=0)["state"] == "queued"
        assert fake.printed() == []
        proxy.restore()  # the agent reconnects on its own and gets what it missed
        fake.wait_for_jobs(2, timeout=20)
        assert sorted(numbers_printed(fake)) == sorted(t["number"] for t in tickets)
        for t in tickets:
            assert print_state(server, t["id"], "printed")["state"] == "printed"
        control = print_another(server, kiosk, fake, 2)
        assert sorted(numbers_printed(fake)) == sorted(
            [t["number"] for t in tickets] + [control["number"]]
        )  # nothing printed twice
        assert agent.joined.is_set()
        kiosk.close()
    finally:
        proxy.close()


def test_a_lost_acknowledgement_never_prints_twice(server, agents, fake):
    first = agents("K3", drop_acks=True)  # prints, but its acks never arrive
    kiosk = Api(server, "k3")
    ticket = kiosk.issue("ktp")
    fake.wait_for_jobs(1)
    first.stop()  # its thread has ended: an ack it sent would have been answered by now
    assert first.printed.outcomes and all(
        e["state"] == "printed" for e in first.printed.outcomes.values()
    )
    assert print_state(server, ticket["id"], "queued", timeout=0)["state"] == "queued"
    second = agents("K3")  # restarted, same printed-jobs file: the job comes back
    assert print_state(server, ticket["id"], "printed")["state"] == "printed"
    control = print_another(server, kiosk, fake, 1)
    assert numbers_printed(fake) == [ticket["number"], control["number"]]  # once each
    # and the server counts a repeated ack once
    job_id = next(
        i
        for i, e in second.printed.outcomes.items()
        if e["state"] == "printed" and i in first.printed.outcomes
    )
    again = second.sio.call(events.PRINTER_AGENT_ACK, {"job": job_id, "ok": True}, timeout=5)
    assert again == {"ok": True, "job": job_id, "duplicate": True}
    kiosk.close()


def test_agent_failures_reach_the_kiosk_and_managers(server, agents, fake):
    agents("K4")
    fake.set_mode("paper_out")
    kiosk = Api(server, "k4")
    ticket = kiosk.issue("ktp")
    info = print_state(server, ticket["id"], "failed")
    assert info["state"] == "failed" and info["printer"] == "paper_out"
    png = requests.get(server.url + info["preview"], timeout=10)
    assert png.headers["Content-Type"] == "image/png"
    boss = Api(server, "boss")
    status = {p["kiosk"]: p for p in boss.request("GET", "/printers").json()["printers"]}
    assert status["K4"]["state"] == "paper_out" and status["K4"]["alert"] is True
    assert fake.printed() == []  # the agent asked first and sent no ticket
    fake.set_mode("ok")  # control: the same agent prints the next one
    control = print_another(server, kiosk, fake, 0)
    assert numbers_printed(fake) == [control["number"]]
    kiosk.close()
    boss.close()


def test_stopping_the_agent_is_quick(server, agents):
    agent = agents("K1")
    started = time.monotonic()
    agent.stop()
    took = time.monotonic() - started
    assert agent._thread is not None and not agent._thread.is_alive()
    assert took < 3, f"stop() took {took:.1f} s"  # it used to wait out a 15 s join


def test_only_the_kiosks_own_user_may_run_its_agent(server):
    sio = socketio.Client(reconnection=False)
    sio.connect(server.url, transports=["websocket"], wait_timeout=15)
    try:
        token = server.token("k1")
        ack = sio.call("printer_agent_join", {"kiosk": "K2", "token": token}, timeout=10)
        assert ack["ok"] is False and ack["error"] == "forbidden"
        ack = sio.call("printer_agent_join", {"kiosk": "K9", "token": token}, timeout=10)
        assert ack["error"] == "no_such_kiosk"
        ack = sio.call("printer_agent_ack", {"job": "x", "ok": True}, timeout=10)
        assert ack["error"] == "unauthorized"
    finally:
        sio.disconnect()


def test_agent_command_line(server, fake, tmp_path):
    command = [
        sys.executable,
        "-m",
        "satupintu",
        "printer",
        "agent",
        "--server",
        server.url,
        "--kiosk",
        "K5",
        "--username",
        "k5",
        "--password-stdin",
        "--printer",
        f"network:127.0.0.1:{fake.port}",
        "--paper",
        "58",
        "--state-file",
        str(tmp_path / "k5.jsonl"),
    ]
    wrong = subprocess.run(
        command, input="wrong-password\n", capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert wrong.returncode == 2 and "login as 'k5' refused" in wrong.stderr
    proc = subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
    )
    try:
        proc.stdin.write(PASSWORD + "\n")
        proc.stdin.close()
        assert "print agent: kiosk K5" in proc.stdout.readline()
        kiosk = Api(server, "k5")
        ticket = kiosk.issue("ktp")  # printed once the agent has joined, whenever that is
        assert print_state(server, ticket["id"], "printed", timeout=30)["state"] == "printed"
        assert [ticket["number"] in read(job, "POS-5890").text for job in fake.printed()] == [True]
        assert Path(tmp_path / "k5.jsonl").read_text().count('"printed"') >= 1
        kiosk.close()
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C: disconnects and exits 130, at once
        started = time.monotonic()
        try:
            code = proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait(10)
        took = time.monotonic() - started
        proc.stdout.close()
        assert code == 130
        assert took < 5, f"Ctrl-C took {took:.1f} s"
