"""The ``kvmap`` console script, run for real in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import kvmap

SCRIPT = Path(sys.executable).with_name("kvmap")


def run(*arguments, cwd, input=b"", env=None):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("KVMAP_")}
    environment.update(env or {})
    return subprocess.run(
        [str(SCRIPT), *arguments],
        cwd=cwd,
        input=input,
        capture_output=True,
        env=environment,
        timeout=60,
    )


def test_console_script_is_installed():
    assert SCRIPT.is_file(), f"{SCRIPT} is missing: is kvmap installed?"


def test_put_then_get_uses_the_default_hidden_folder(tmp_path):
    assert run("put", "greeting", "hello, world", cwd=tmp_path).returncode == 0
    result = run("get", "greeting", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout == b"hello, world"
    assert (tmp_path / ".kvmap" / "greeting").read_bytes() == b"hello, world"


def test_put_reads_stdin_as_bytes(tmp_path):
    binary = bytes(range(256))
    assert run("put", "blob", cwd=tmp_path, input=binary).returncode == 0
    assert run("put", "dash", "-", cwd=tmp_path, input=b"x").returncode == 0
    assert run("get", "blob", cwd=tmp_path).stdout == binary
    assert run("get", "dash", cwd=tmp_path).stdout == b"x"


def test_put_file_and_get_to_a_file(tmp_path):
    source = tmp_path / "in.bin"
    source.write_bytes(b"\x00\x01data")
    assert run("put", "k", "--file", str(source), cwd=tmp_path).returncode == 0
    assert run("get", "k", "-o", "out.bin", cwd=tmp_path).returncode == 0
    assert (tmp_path / "out.bin").read_bytes() == b"\x00\x01data"


def test_get_prints_values_written_from_python(tmp_path):
    store = kvmap.get_store(str(tmp_path / "s"))
    store["text"] = "héllo"
    store["object"] = {"a": (1, 2)}
    uri = str(tmp_path / "s")
    assert run("--uri", uri, "get", "text", cwd=tmp_path).stdout == "héllo".encode()
    assert run("--uri", uri, "get", "object", cwd=tmp_path).stdout == b"{'a': (1, 2)}\n"


def test_keys_lists_all_or_a_prefix(tmp_path):
    for key in ("a/1", "a/2", "b"):
        run("put", key, "v", cwd=tmp_path)
    everything = run("keys", cwd=tmp_path).stdout.decode().split()
    assert sorted(everything) == ["a/1", "a/2", "b"]
    under_a = run("keys", "--prefix", "a/", cwd=tmp_path).stdout.decode().split()
    assert sorted(under_a) == ["a/1", "a/2"]


def test_delete_removes_the_key(tmp_path):
    run("put", "k", "v", cwd=tmp_path)
    assert run("delete", "k", cwd=tmp_path).returncode == 0
    assert run("keys", cwd=tmp_path).stdout == b""


def test_missing_key_is_one_line_on_stderr_and_exit_1(tmp_path):
    for command in (["get", "nope"], ["delete", "nope"]):
        result = run(*command, cwd=tmp_path)
        assert result.returncode == 1
        assert result.stderr.decode().strip() == "kvmap: no such key: 'nope'"
        assert b"Traceback" not in result.stderr


def test_bad_usage_exits_2(tmp_path):
    assert run("frobnicate", cwd=tmp_path).returncode == 2
    assert run(cwd=tmp_path).returncode == 2


def test_bad_configuration_exits_2_without_traceback(tmp_path):
    result = run("keys", cwd=tmp_path, env={"KVMAP_DEFAULT_TTL": "soon"})
    assert result.returncode == 2
    assert b"KVMAP_DEFAULT_TTL" in result.stderr
    assert b"Traceback" not in result.stderr


def test_invalid_key_is_reported_without_traceback(tmp_path):
    result = run("put", "../escape", "v", cwd=tmp_path)
    assert result.returncode == 1
    assert b"'../escape'" in result.stderr
    assert b"Traceback" not in result.stderr


def test_copy_streams_every_key_to_another_store(tmp_path):
    source = kvmap.get_store(str(tmp_path / "src"))
    source.setitems({f"k/{n}": {"n": n} for n in range(2500)})
    source["other"] = b"raw"
    result = run("copy", str(tmp_path / "src"), str(tmp_path / "dst"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    target = kvmap.get_store(str(tmp_path / "dst"))
    assert len(target) == 2501
    assert target["k/1234"] == {"n": 1234}
    assert target["other"] == b"raw"


def test_copy_with_prefix_copies_only_that_prefix(tmp_path):
    source = kvmap.get_store(str(tmp_path / "src"))
    source.update({"a/1": b"1", "b/1": b"2"})
    run("copy", "src", "dst", "--prefix", "a/", cwd=tmp_path)
    assert sorted(kvmap.get_store(str(tmp_path / "dst"))) == ["a/1"]


def test_config_prints_settings_with_secrets_redacted(tmp_path):
    result = run(
        "--uri",
        "zip:///x.zip",
        "config",
        cwd=tmp_path,
        env={
            "KVMAP_SIGNING_KEY": "topsecret",
            "KVMAP_BACKEND_CONFIG__PASSWORD": "hunter2",
        },
    )
    assert result.returncode == 0, result.stderr
    assert b'"uri": "zip:///x.zip"' in result.stdout
    assert b"topsecret" not in result.stdout
    assert b"hunter2" not in result.stdout


def test_python_dash_m_runs_the_same_command_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "kvmap", "keys"],
        cwd=tmp_path,
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 0


@pytest.mark.parametrize("uri", ["memory://"])
def test_memory_store_is_empty_in_each_command(tmp_path, uri):
    run("--uri", uri, "put", "k", "v", cwd=tmp_path)
    assert run("--uri", uri, "get", "k", cwd=tmp_path).returncode == 1
