"""The ``kvmap`` command line: put, get, list, delete and copy keys.

The store is chosen by ``--uri`` or ``KVMAP_URI`` (default ``./.kvmap``); every
other ``KVMAP_*`` variable applies too. Exit status: 0 on success, 1 for a
missing key or a failed operation, 2 for bad usage or configuration.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from collections.abc import Sequence
from typing import Any, BinaryIO

from kvmap.backends import backend_class
from kvmap.copying import copy_store
from kvmap.errors import ConfigError, InvalidKeyError
from kvmap.factory import get_store
from kvmap.settings import Settings, cast_option_text, declared_type, place_option
from kvmap.store import Store

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` and return the exit status."""
    warnings.showwarning = _show_warning
    parser = _parser()
    arguments = parser.parse_args(argv)
    try:
        return int(arguments.run(arguments))
    except KeyError as error:
        _say(f"kvmap: no such key: {error.args[0]!r}" if error.args else "no such key")
        return 1
    except ConfigError as error:
        _say(f"kvmap: configuration error: {error}")
        return 2
    except InvalidKeyError as error:
        _say(f"kvmap: invalid key: {error}")
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (kvmap keys | head): stop quietly, as Unix
        # tools do, and keep Python from complaining when it flushes stdout.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as error:  # no traceback for a user of the command line
        _say(f"kvmap: {type(error).__name__}: {error}")
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kvmap", description="Keep values anywhere with plain keys."
    )
    parser.add_argument("--uri", help="the store (default: $KVMAP_URI or ./.kvmap)")
    commands = parser.add_subparsers(dest="command", required=True)

    put = commands.add_parser("put", help="store a value under a key")
    put.add_argument("key")
    put.add_argument("value", nargs="?", default="-", help="text, or - for stdin")
    put.add_argument("--file", help="read the value from this file")
    put.set_defaults(run=_put)

    get = commands.add_parser("get", help="write the value of a key to stdout")
    get.add_argument("key")
    get.add_argument("-o", "--output", help="write the value to this file")
    get.set_defaults(run=_get)

    keys = commands.add_parser("keys", help="list keys, one per line")
    keys.add_argument("--prefix", default="", help="only keys starting with this")
    keys.add_argument(
        "-0",
        "--null",
        action="store_true",
        help="end each key with a NUL byte instead of a newline (for xargs -0)",
    )
    keys.set_defaults(run=_keys)

    delete = commands.add_parser("delete", help="delete a key")
    delete.add_argument("key")
    delete.set_defaults(run=_delete)

    copy = commands.add_parser("copy", help="copy every key from one store to another")
    copy.add_argument("source")
    copy.add_argument("destination")
    copy.add_argument("--prefix", default="", help="only keys starting with this")
    for side in ("source", "target"):
        copy.add_argument(
            f"--{side}-option",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help=f"a backend option of the {side} only (repeatable; sql.table=kv)",
        )
    copy.set_defaults(run=_copy)

    config = commands.add_parser("config", help="show the effective settings")
    config.set_defaults(run=_config)
    return parser


def _store(arguments: argparse.Namespace, mode: str | None = None) -> Store[Any]:
    # A missing key is always an error here, whatever KVMAP_RAISE_ON_NONEXIST.
    return get_store(arguments.uri, serialization_mode=mode, raise_on_nonexist=True)


def _put(arguments: argparse.Namespace) -> int:
    if arguments.file and arguments.value != "-":
        raise ConfigError("give the value as VALUE or with --file, not both")
    if arguments.file:
        with open(arguments.file, "rb") as source:
            value = source.read()
    elif arguments.value == "-":
        value = sys.stdin.buffer.read()
    else:
        value = arguments.value.encode("utf-8")
    # In auto mode bytes are stored as they are, except bytes that begin with
    # kvmap's value marker, which are escaped: get then returns them as bytes
    # too, instead of decoding them as a stored object.
    with _store(arguments, mode="auto") as store:
        store[arguments.key] = value
    return 0


def _get(arguments: argparse.Namespace) -> int:
    # auto, as put writes: bytes come back as bytes whatever the mode, and
    # values written from Python as their text.
    with _store(arguments, mode="auto") as store:
        value = store[arguments.key]
    data = _as_output(value)
    if arguments.output:
        with open(arguments.output, "wb") as target:
            target.write(data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    return 0


def _as_output(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    return (repr(value) + "\n").encode("utf-8")


def _keys(arguments: argparse.Namespace) -> int:
    with _store(arguments) as store:
        end = "\0" if arguments.null else "\n"
        for key in store.keys(prefix=arguments.prefix):
            sys.stdout.write(key + end)
    return 0


def _delete(arguments: argparse.Namespace) -> int:
    with _store(arguments) as store:
        del store[arguments.key]
    return 0


def _copy(arguments: argparse.Namespace) -> int:
    progress = _Progress(sys.stderr.buffer if sys.stderr.isatty() else None)
    copy_store(
        arguments.source,
        arguments.destination,
        prefix=arguments.prefix,
        source_options=_options(arguments.source, arguments.source_option),
        target_options=_options(arguments.destination, arguments.target_option),
        progress=progress.show,
    )
    progress.finish()
    return 0


def _options(uri: str, assignments: list[str]) -> dict[str, Any]:
    # NAME=VALUE pairs; a dotted name sets a nested option (sql.table=kv).
    backend = backend_class(uri)
    options: dict[str, Any] = {}
    for assignment in assignments:
        name, equals, text = assignment.partition("=")
        name = name.strip()
        if not equals or not name:
            raise ConfigError(f"option {assignment!r} is not valid: use NAME=VALUE")
        path = name.lower().split(".")
        kind = declared_type(backend.options, path)
        value = cast_option_text(text, kind, f"option {name}")
        place_option(options, path, value, ".".join)
    return options


def _config(arguments: argparse.Namespace) -> int:
    settings = Settings.load(uri=arguments.uri)
    sys.stdout.write(json.dumps(settings.describe(), indent=2, default=str) + "\n")
    return 0


def _show_warning(message: Any, *args: Any, **kwargs: Any) -> None:
    _say(f"kvmap: warning: {message}")


def _say(message: str) -> None:
    sys.stderr.write(message + "\n")


class _Progress:
    """A one-line count of copied keys, shown only on a terminal."""

    def __init__(self, stream: BinaryIO | None) -> None:
        self.stream = stream
        self.count = 0

    def show(self, count: int) -> None:
        self.count = count
        if self.stream is not None:
            self.stream.write(f"\rcopied {self.count} keys".encode())
            self.stream.flush()

    def finish(self) -> None:
        if self.stream is not None:
            self.stream.write(b"\n")
            self.stream.flush()
