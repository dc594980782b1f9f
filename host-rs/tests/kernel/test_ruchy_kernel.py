"""The Ruchy kernel (`host-rs kernel`) driven by real Jupyter clients.

`jupyter_kernel_test.KernelTests` (the suite every kernel can subclass) with the samples that
apply to Ruchy, and tests of our own for what the suite does not check: the order of printed
text and displays, the traceback, silent and store_history, cursors in code points, and bad
messages on the shell socket. Run by host-rs/tests/kernel.rs, in target/jupyter-venv, with the
kernelspec installed there by `host-rs kernel install --prefix`. Also: a kernel killed and
restarted by its manager, and nbclient running the example notebooks (`examples/*.ipynb`)
against the outputs committed in them (`RUCHY_UPDATE_EXAMPLES=1` rewrites them).
"""

from __future__ import annotations

import copy
import json
import os
import sys
import time
import unittest
from pathlib import Path

import jupyter_kernel_test
import nbformat
import zmq
from jupyter_client.manager import start_new_kernel
from nbclient import NotebookClient

TIMEOUT = 15


class RuchyKernelTests(jupyter_kernel_test.KernelTests):
    kernel_name = "ruchy"
    language_name = "ruchy"
    file_extension = ".ruchy"

    code_hello_world = 'println("hello, world")'
    # code_stderr: Ruchy cells have no stderr (errors are `error` messages)
    # code_page_something: Ruchy has no pager (inspection answers inspect_request instead)

    completion_samples = [
        {"text": "printl", "matches": {"println"}},
        {"text": "lin", "matches": {"line_chart"}},
        {"text": "whil", "matches": {"while"}},
    ]

    complete_code_samples = ["1 + 2", "let x = 1", "fun f(n) { n * 2 }", ""]
    incomplete_code_samples = ["fun f(n) {", "let xs = [1, 2,", 'let s = "abc']
    invalid_code_samples = ["let = 5", "1 + )"]

    code_generate_error = "undefined_name + 1"

    code_execute_result = [
        {"code": "1 + 2", "result": "3"},
        {"code": "6 * 7", "result": "42"},
        {"code": '"ab" + "cd"', "result": '"abcd"'},
        {"code": 'html("<b>x</b>")', "mime": "text/html", "result": "<b>x</b>"},
    ]
    code_display_data = [
        {"code": 'display(html("<b>x</b>"))', "mime": "text/html"},
        {"code": 'display(markdown("*x*"))', "mime": "text/markdown"},
        {"code": "display(line_chart([1, 2, 3], [2, 4, 3]))", "mime": "image/svg+xml"},
    ]

    code_inspect_sample = "println"
    code_history_pattern = "6 ?*"
    supported_history_operations = ("tail", "range", "search")

    # --- beyond the standard suite ---------------------------------------------------------

    def test_kernel_info_language(self) -> None:
        self.flush_channels()
        self.kc.kernel_info()
        reply = self.kc.get_shell_msg(timeout=TIMEOUT)
        info = reply["content"]["language_info"]
        self.assertEqual(info["mimetype"], "text/x-ruchy")
        self.assertEqual(info["pygments_lexer"], "rust")
        self.assertEqual(info["codemirror_mode"], "rust")
        self.assertEqual(reply["content"]["protocol_version"], "5.3")

    def test_outputs_in_order(self) -> None:
        self.flush_channels()
        code = 'println("a")\ndisplay(html("<i>d</i>"))\nprintln("b")\n40 + 2'
        reply, outs = self.execute_helper(code)
        self.assertEqual(reply["content"]["status"], "ok")
        shape = []
        for m in outs:
            if m["msg_type"] == "stream":
                shape.append(("stream", m["content"]["name"], m["content"]["text"]))
            elif m["msg_type"] == "display_data":
                shape.append(("display", m["content"]["data"]["text/html"]))
            elif m["msg_type"] == "execute_result":
                shape.append(("result", m["content"]["data"]["text/plain"]))
                self.assertEqual(
                    m["content"]["execution_count"], reply["content"]["execution_count"]
                )
        self.assertEqual(
            shape,
            [
                ("stream", "stdout", "a\n"),
                ("display", "<i>d</i>"),
                ("stream", "stdout", "b\n"),
                ("result", "42"),
            ],
        )

    def test_error_traceback_and_session_kept(self) -> None:
        self.flush_channels()
        self.execute_helper("let kept = 7")
        reply, outs = self.execute_helper("let y = kept +\nnope * 2")
        self.assertEqual(reply["content"]["status"], "error")
        errors = [m for m in outs if m["msg_type"] == "error"]
        self.assertEqual(len(errors), 1)
        err = errors[0]["content"]
        # named as the page names it in its .ipynb files, the cell as In[count]
        self.assertEqual(err["ename"], "RuntimeError")
        self.assertIn("nope", err["evalue"])
        tb = "\n".join(err["traceback"])
        self.assertIn(f"--> In[{reply['content']['execution_count']}]:2:1", tb)
        self.assertIn("2 | nope * 2", tb)
        self.assertIn("  | ^^^^", tb)
        self.assertEqual(reply["content"]["ename"], "RuntimeError")
        reply, outs = self.execute_helper("kept")
        results = [m for m in outs if m["msg_type"] == "execute_result"]
        self.assertEqual(results[0]["content"]["data"]["text/plain"], "7")

    def test_execution_count_silent_and_store_history(self) -> None:
        self.flush_channels()
        first, _ = self.execute_helper("1")
        n = first["content"]["execution_count"]
        reply, outs = self.execute_helper("2", store_history=False)
        self.assertEqual(reply["content"]["execution_count"], n)
        reply, outs = self.execute_helper('println("quiet")\n3', silent=True)
        self.assertEqual(reply["content"]["status"], "ok")
        self.assertEqual(outs, [])
        reply, _ = self.execute_helper("4")
        self.assertEqual(reply["content"]["execution_count"], n + 1)

    def test_stop_on_error_aborts_the_queued_cells(self) -> None:
        """Three executes sent without waiting; the first fails after ~0.1 s of work (so the
        other two are queued by then): they are answered `aborted` without running, as
        ipykernel does; the next execute runs normally. With stop_on_error=False the queue
        runs on."""
        self.flush_channels()
        failing = "var i = 0\nwhile i < 3000000 { i = i + 1 }\ni / (i - i)"
        ids = [
            self.kc.execute(failing),
            self.kc.execute("let after_abort = 1"),
            self.kc.execute("2 + 2"),
        ]
        replies = {}
        for _ in ids:
            r = self.kc.get_shell_msg(timeout=TIMEOUT)
            replies[r["parent_header"]["msg_id"]] = r["content"]
        self.assertEqual(
            [replies[i]["status"] for i in ids], ["error", "aborted", "aborted"], replies
        )
        # every request still gets busy/idle; the aborted ones show no input and no result
        seen = {i: [] for i in ids}
        idle = set()
        while idle != set(ids):
            m = self.kc.get_iopub_msg(timeout=TIMEOUT)
            parent = m["parent_header"].get("msg_id")
            if parent in seen:
                seen[parent].append(m["msg_type"])
                if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
                    idle.add(parent)
        self.assertEqual(seen[ids[0]], ["status", "execute_input", "error", "status"])
        self.assertEqual(seen[ids[1]], ["status", "status"])
        self.assertEqual(seen[ids[2]], ["status", "status"])
        reply, outs = self.execute_helper("after_abort")
        self.assertEqual(reply["content"]["status"], "error", "the aborted cell did not run")
        reply, outs = self.execute_helper("3 * 3")
        self.assertEqual(reply["content"]["status"], "ok")
        results = [m for m in outs if m["msg_type"] == "execute_result"]
        self.assertEqual(results[0]["content"]["data"]["text/plain"], "9")
        # a request sent once the failed cell's idle is seen was not waiting: it runs (the
        # kernel reads what is waiting before it publishes idle), every time
        for _ in range(20):
            reply, _ = self.execute_helper("nope_here")
            self.assertEqual(reply["content"]["status"], "error")
            reply, _ = self.execute_helper("1")
            self.assertEqual(reply["content"]["status"], "ok")
        # stop_on_error=False: the queued cell runs
        ids = [self.kc.execute(failing, stop_on_error=False), self.kc.execute("5 + 5")]
        replies = {}
        for _ in ids:
            r = self.kc.get_shell_msg(timeout=TIMEOUT)
            replies[r["parent_header"]["msg_id"]] = r["content"]
        self.assertEqual([replies[i]["status"] for i in ids], ["error", "ok"])

    def test_completion_cursor_in_code_points(self) -> None:
        self.flush_channels()
        code = 'let s = "üüü"\nlet total_ü = 1\nlet t = s.le'
        msg_id = self.kc.complete(code, len(code))
        reply = self.get_non_kernel_info_reply(timeout=TIMEOUT)
        c = reply["content"]
        self.assertIn("len", c["matches"])
        self.assertEqual(c["cursor_end"], len(code))
        self.assertEqual(c["cursor_start"], len(code) - 2)
        kinds = {t["text"]: t["type"] for t in c["metadata"]["_jupyter_types_experimental"]}
        self.assertEqual(kinds["len"], "method")

    def test_inspect_bundle(self) -> None:
        self.flush_channels()
        self.kc.inspect("len(xs)", 1)
        reply = self.get_non_kernel_info_reply(timeout=TIMEOUT)
        c = reply["content"]
        self.assertTrue(c["found"])
        self.assertIn("text/markdown", c["data"])
        self.assertIn("len", c["data"]["text/plain"])
        self.kc.inspect("   ", 1)
        reply = self.get_non_kernel_info_reply(timeout=TIMEOUT)
        self.assertFalse(reply["content"]["found"])

    def test_comm_info_is_empty(self) -> None:
        self.flush_channels()
        self.kc.comm_info()
        reply = self.get_non_kernel_info_reply(timeout=TIMEOUT)
        self.assertEqual(reply["content"]["comms"], {})

    def test_interrupt_is_answered(self) -> None:
        self.flush_channels()
        msg = self.kc.session.msg("interrupt_request", {})
        self.kc.control_channel.send(msg)
        reply = self.kc.control_channel.get_msg(timeout=TIMEOUT)
        self.assertEqual(reply["msg_type"], "interrupt_reply")
        self.assertEqual(reply["content"]["status"], "ok")

    def test_interrupt_keeps_the_session(self) -> None:
        """`loop {}` interrupted from the control channel: the cell ends with an error that
        says so, quickly, and the bindings from before it are still there."""
        self.flush_channels()
        self.execute_helper("let before_interrupt = 41")
        msg_id = self.kc.execute("loop {}")
        time.sleep(0.3)
        start = time.monotonic()
        self.kc.control_channel.send(self.kc.session.msg("interrupt_request", {}))
        reply = self.kc.get_shell_msg(timeout=TIMEOUT)
        elapsed = time.monotonic() - start
        sys.stderr.write(f"\n  interrupt_request to execute_reply: {elapsed * 1000:.1f} ms\n")
        self.assertEqual(reply["parent_header"]["msg_id"], msg_id)
        self.assertEqual(reply["content"]["status"], "error")
        self.assertIn("Interrupted", reply["content"]["evalue"])
        # the goal is 100 ms; 1 s keeps a loaded CI machine from failing it
        self.assertLess(elapsed, 1.0)
        control = self.kc.control_channel.get_msg(timeout=TIMEOUT)
        self.assertEqual(control["msg_type"], "interrupt_reply")
        self.flush_channels()
        reply, outs = self.execute_helper("before_interrupt + 1")
        results = [m for m in outs if m["msg_type"] == "execute_result"]
        self.assertEqual(results[0]["content"]["data"]["text/plain"], "42")

    def test_bad_messages_are_dropped(self) -> None:
        """Garbage frames, an unsigned message and one with a wrong signature on the shell
        socket: the kernel drops them and still answers the next good request."""
        self.flush_channels()
        info = self.km.get_connection_info()
        ctx = zmq.Context.instance()
        sock = ctx.socket(zmq.DEALER)
        sock.linger = 0
        sock.connect(f"tcp://{info['ip']}:{info['shell_port']}")
        try:
            header = json.dumps(
                {
                    "msg_id": "bad-1",
                    "session": "s",
                    "username": "u",
                    "date": "2026-01-01T00:00:00Z",
                    "msg_type": "execute_request",
                    "version": "5.3",
                }
            ).encode()
            content = json.dumps({"code": "1", "silent": False}).encode()
            sock.send_multipart([b"not a jupyter message"])
            sock.send_multipart([b"<IDS|MSG>"])
            sock.send_multipart([b"<IDS|MSG>", b"", header, b"{}", b"{}", content])
            sock.send_multipart([b"<IDS|MSG>", b"00" * 32, header, b"{}", b"{}", content])
            sock.send_multipart([b"<IDS|MSG>", b"zz", b"{", b"", b"", b""])
            self.assertEqual(sock.poll(500), 0, "the kernel answered a bad message")
        finally:
            sock.close()
        reply, outs = self.execute_helper("5 + 5")
        self.assertEqual(reply["content"]["status"], "ok")


class CrashRestart(unittest.TestCase):
    def test_killed_kernel_restarts_fresh(self) -> None:
        """The kernel process killed: the manager's restart gives a working, fresh kernel."""
        km, kc = start_new_kernel(kernel_name="ruchy", startup_timeout=TIMEOUT)
        try:
            reply = kc.execute_interactive("let a = 1", timeout=TIMEOUT, output_hook=lambda m: None)
            self.assertEqual(reply["content"]["status"], "ok")
            km.provisioner.process.kill()
            deadline = time.monotonic() + TIMEOUT
            while km.is_alive() and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertFalse(km.is_alive())
            kc.stop_channels()
            km.restart_kernel(now=True)
            kc = km.client()
            kc.start_channels()
            kc.wait_for_ready(timeout=TIMEOUT)
            shown = []

            def hook(msg: dict) -> None:
                if msg["msg_type"] == "execute_result":
                    shown.append(msg["content"]["data"]["text/plain"])

            reply = kc.execute_interactive("1 + 1", timeout=TIMEOUT, output_hook=hook)
            self.assertEqual(reply["content"]["status"], "ok")
            self.assertEqual(shown, ["2"])
            reply = kc.execute_interactive("a", timeout=TIMEOUT, output_hook=hook)
            self.assertEqual(reply["content"]["status"], "error", "a restart is a fresh session")
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)


EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def comparable(outputs: list) -> list:
    """Outputs without what varies between runs or clients (metadata, transient)."""
    keep = ("output_type", "name", "text", "data", "execution_count", "ename", "evalue", "traceback")
    return [{k: o[k] for k in keep if k in o} for o in outputs]


class ExampleNotebooks(unittest.TestCase):
    def test_examples_give_their_committed_outputs(self) -> None:
        paths = sorted(EXAMPLES.glob("*.ipynb"))
        self.assertTrue(paths, f"no notebooks in {EXAMPLES}")
        for path in paths:
            with self.subTest(notebook=path.name):
                committed = nbformat.read(path, as_version=4)
                fresh = copy.deepcopy(committed)
                for cell in fresh.cells:
                    if cell.cell_type == "code":
                        cell.outputs = []
                        cell.execution_count = None
                client = NotebookClient(
                    fresh,
                    kernel_name="ruchy",
                    timeout=TIMEOUT,
                    startup_timeout=TIMEOUT,
                    allow_errors=True,
                )
                client.execute()
                if os.environ.get("RUCHY_UPDATE_EXAMPLES"):
                    nbformat.write(fresh, path)
                    continue
                codes = [c for c in committed.cells if c.cell_type == "code"]
                got = [c for c in fresh.cells if c.cell_type == "code"]
                for want, have in zip(codes, got):
                    self.assertEqual(
                        comparable(have.outputs), comparable(want.outputs), want.source
                    )
                    self.assertEqual(have.execution_count, want.execution_count)


if __name__ == "__main__":
    unittest.main(verbosity=2)
