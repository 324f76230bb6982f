"""The ``kvmap`` console script, run for real in a subprocess."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import time
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


def test_invalid_key_is_bad_usage_reported_without_traceback(tmp_path):
    result = run("put", "../escape", "v", cwd=tmp_path)
    assert result.returncode == 2
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


def test_copy_into_a_native_expiry_backend_drops_expired_keys(tmp_path):
    source = kvmap.get_store(str(tmp_path / "src"))
    source.set("live", "value", ttl=3600)
    source.set("dead", "value", ttl=0.01)
    source["forever"] = {"a": 1}
    time.sleep(0.05)
    target_uri = f"sqlite:///{tmp_path}/dst.db"
    result = run("copy", "src", target_uri, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    target = kvmap.get_store(target_uri)
    assert sorted(target) == ["forever", "live"]
    assert target["live"] == "value"
    assert target["forever"] == {"a": 1}


def test_copy_between_files_keeps_expiry(tmp_path):
    source = kvmap.get_store(str(tmp_path / "src"))
    source.set("short", b"x", ttl=0.5)
    source.set("gone", b"x", ttl=0.01)
    time.sleep(0.05)
    run("copy", "src", "dst", cwd=tmp_path)
    assert not (tmp_path / "dst" / "gone").exists()
    target = kvmap.get_store(str(tmp_path / "dst"))
    assert target["short"] == b"x"
    time.sleep(0.6)
    assert "short" not in target


def test_copy_honours_key_prefix_and_read_only(tmp_path):
    kvmap.get_store(str(tmp_path / "src"), key_prefix="team").update({"k": b"1"})
    kvmap.get_store(str(tmp_path / "src"))["outside"] = b"2"
    result = run("copy", "src", "dst", cwd=tmp_path, env={"KVMAP_KEY_PREFIX": "team"})
    assert result.returncode == 0, result.stderr
    assert sorted(kvmap.get_store(str(tmp_path / "dst"))) == ["team/k"]
    refused = run("copy", "src", "dst2", cwd=tmp_path, env={"KVMAP_READ_ONLY": "1"})
    assert refused.returncode == 1
    assert b"read-only" in refused.stderr or b"READ_ONLY" in refused.stderr
    assert not (tmp_path / "dst2").exists()


def test_copy_gives_each_side_only_the_options_it_takes(tmp_path):
    kvmap.get_store(str(tmp_path / "src"))["k"] = b"v"
    target_uri = f"sqlite:///{tmp_path}/dst.db"
    result = run(
        "copy",
        "src",
        target_uri,
        "--target-option",
        "sql.table=copied",
        cwd=tmp_path,
        env={"KVMAP_BACKEND_CONFIG__DURABLE": "1"},
    )
    assert result.returncode == 0, result.stderr
    assert kvmap.get_store(target_uri, sql={"table": "copied"})["k"] == b"v"


def test_copy_from_a_missing_folder_is_an_error(tmp_path):
    result = run("copy", "nowhere", "dst", cwd=tmp_path)
    assert result.returncode == 1
    assert b"does not exist" in result.stderr


def test_get_raises_for_a_missing_key_whatever_the_policy(tmp_path):
    result = run("get", "nope", cwd=tmp_path, env={"KVMAP_RAISE_ON_NONEXIST": "0"})
    assert result.returncode == 1


def test_put_stores_bytes_in_every_serialization_mode(tmp_path):
    env = {"KVMAP_SERIALIZATION_MODE": "json"}
    assert run("put", "j", '{"a": 1}', cwd=tmp_path, env=env).returncode == 0
    assert kvmap.get_store(str(tmp_path / ".kvmap"), serialization_mode="json")[
        "j"
    ] == {"a": 1}


def test_unexpected_errors_are_one_line_without_traceback(tmp_path):
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "key").write_bytes(b"\x00kvmap:j{broken")
    result = run("--uri", "store", "get", "key", cwd=tmp_path)
    assert result.returncode == 1
    assert b"Traceback" not in result.stderr
    assert b"'key'" in result.stderr


def test_keys_can_be_separated_by_nul_for_keys_with_newlines(tmp_path):
    kvmap.get_store(str(tmp_path / ".kvmap")).update({"two\nlines": b"1", "b": b"2"})
    result = run("keys", "-0", cwd=tmp_path)
    assert sorted(result.stdout.split(b"\0")[:-1]) == [b"b", b"two\nlines"]


def test_a_reader_that_goes_away_stops_the_listing_quietly(tmp_path):
    kvmap.get_store(str(tmp_path / ".kvmap")).setitems(
        {f"k{n}": b"v" for n in range(20000)}
    )
    result = subprocess.run(
        f"'{SCRIPT}' keys | head -1",
        shell=True,
        cwd=tmp_path,
        capture_output=True,
        timeout=120,
    )
    assert result.stdout.count(b"\n") == 1
    assert result.stderr == b""


def test_bytes_that_look_like_kvmap_values_round_trip_as_bytes(tmp_path):
    pickled = b"\x00kvmap:p" + pickle.dumps(print)
    for name, data in {
        "pickle": pickled,
        "json": b'\x00kvmap:j{"a":1}',
        "envelope": b"\x00kvmap:tAAAAAAAAhello",
    }.items():
        (tmp_path / name).write_bytes(data)
        assert run("put", name, "--file", name, cwd=tmp_path).returncode == 0
        result = run("get", name, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert result.stdout == data


def test_put_refuses_a_value_and_a_file_together(tmp_path):
    (tmp_path / "f").write_bytes(b"x")
    result = run("put", "k", "v", "--file", "f", cwd=tmp_path)
    assert result.returncode == 2
    assert b"not both" in result.stderr


def test_copy_from_a_missing_sqlite_file_is_an_error_and_creates_nothing(tmp_path):
    result = run("copy", "sqlite:///missing.db", "dst", cwd=tmp_path)
    assert result.returncode == 1
    assert b"does not exist" in result.stderr
    assert not (tmp_path / "missing.db").exists()


def test_conflicting_nested_options_are_a_config_error(tmp_path):
    kvmap.get_store(str(tmp_path / "src"))["k"] = b"v"
    result = run(
        "copy",
        "src",
        "sqlite:///o.db",
        "--target-option",
        "sql.table=a",
        "--target-option",
        "sql.table.x=b",
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert b"sql.table" in result.stderr


def test_warnings_are_one_line(tmp_path):
    result = run("keys", cwd=tmp_path, env={"KVMAP_URIX": "1"})
    assert result.returncode == 0
    assert result.stderr.decode().splitlines() == [
        "kvmap: warning: KVMAP_URIX is not a kvmap setting and is ignored "
        "(did you mean KVMAP_URI?)"
    ]


def test_get_returns_put_bytes_whatever_the_serialization_mode(tmp_path):
    for mode in ("json", "raw", "pickle"):
        env = {"KVMAP_SERIALIZATION_MODE": mode}
        assert run("put", "k", "not json", cwd=tmp_path, env=env).returncode == 0
        result = run("get", "k", cwd=tmp_path, env=env)
        assert result.returncode == 0, result.stderr
        assert result.stdout == b"not json"


def test_get_prints_python_text_as_utf8_in_raw_mode_too(tmp_path):
    kvmap.get_store(str(tmp_path / ".kvmap"))["s"] = "héllo"
    result = run("get", "s", cwd=tmp_path, env={"KVMAP_SERIALIZATION_MODE": "raw"})
    assert result.stdout == "héllo".encode()
