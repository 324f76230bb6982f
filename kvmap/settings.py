"""kvmap's settings, read from ``KVMAP_*`` environment variables with environs.

========================================  =========  ==========================
variable                                  default    meaning
========================================  =========  ==========================
``KVMAP_URI``                             ``./.kvmap``  where the store lives
``KVMAP_SERIALIZATION_MODE``              ``auto``   raw, json, pickle,
                                                     cloudpickle or auto
``KVMAP_RAISE_ON_NONEXIST``               ``true``   missing key: KeyError
                                                     (true) or None (false)
``KVMAP_DEFAULT_TTL``                     ``0``      seconds to live, 0 = never
``KVMAP_KEY_PREFIX``                      (none)     keep all keys under it
``KVMAP_READ_ONLY``                       ``false``  refuse writes and deletes
``KVMAP_ALLOW_PICKLE``                    ``true``   allow loading pickles
``KVMAP_SIGNING_KEY``                     (none)     sign pickles with HMAC
``KVMAP_BACKEND_CONFIG__<NAME>[__...]``   (none)     backend options
========================================  =========  ==========================

Booleans follow environs: ``1``, ``true``, ``yes``, ``on`` are true and ``0``,
``false``, ``no``, ``off`` are false. Backend options nest with ``__`` and are
cast to the type the backend declares for them; options a backend passes
through without declaring them (fsspec storage options) become booleans when
they spell one, and stay strings otherwise.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
import warnings
from collections.abc import Mapping
from typing import Any

from environs import Env, EnvError

from kvmap.backends import backend_class
from kvmap.errors import ConfigError, InvalidKeyError
from kvmap.keys import check_key
from kvmap.layers.serializer import MODES
from kvmap.redact import MASK, redact_options, redact_uri
from kvmap.store import check_ttl

__all__ = [
    "BACKEND_CONFIG_PREFIX",
    "ENV_PREFIX",
    "Settings",
    "backend_environment_config",
    "cast_option_text",
    "declared_type",
    "place_option",
]

ENV_PREFIX = "KVMAP_"
BACKEND_CONFIG_PREFIX = ENV_PREFIX + "BACKEND_CONFIG__"

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


@dataclasses.dataclass(frozen=True)
class Settings:
    """The effective configuration of a store.

    Build it with :meth:`load`, which reads the environment at call time and
    lets keyword arguments win. ``repr`` and :meth:`describe` never show the
    signing key or a password.
    """

    uri: str = "./.kvmap"
    serialization_mode: str = "auto"
    raise_on_nonexist: bool = True
    default_ttl: float = 0.0
    key_prefix: str = ""
    read_only: bool = False
    allow_pickle: bool = True
    signing_key: str | None = dataclasses.field(default=None, repr=False)
    backend_config: dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def load(cls, *, backend_environment: bool = True, **overrides: Any) -> Settings:
        """Read the ``KVMAP_*`` variables, then apply the non-None ``overrides``.

        ``backend_config`` from the keyword is merged into the one from the
        environment, key by key, the keyword winning. With
        ``backend_environment=False`` the ``KVMAP_BACKEND_CONFIG__*`` variables
        are not read: ``backend_config`` alone configures the backend.

        Raises
        ------
        ConfigError
            Naming the variable or option, its value, and what is allowed.
        """
        unknown = set(overrides) - {field.name for field in dataclasses.fields(cls)}
        if unknown:
            allowed = ", ".join(field.name for field in dataclasses.fields(cls))
            raise ConfigError(f"unknown setting {sorted(unknown)}; allowed: {allowed}")
        env = Env(expand_vars=False)
        _warn_about_unknown_variables()
        values = _read_environment(env)
        values.update({k: v for k, v in overrides.items() if v is not None})
        given = {name for name, value in overrides.items() if value is not None}
        _check_values(values, from_keyword=given)

        backend = backend_class(values["uri"])
        from_env = backend_environment_config(backend) if backend_environment else {}
        keyword = dict(overrides.get("backend_config") or {})
        values["backend_config"] = _merge(from_env, keyword)
        _check_backend_options(values["backend_config"], backend)
        return cls(**values)

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.describe().items())
        return f"Settings({shown})"

    def describe(self) -> dict[str, Any]:
        """Return the settings as a dict, with every secret masked."""
        shown = dataclasses.asdict(self)
        shown["uri"] = redact_uri(self.uri)
        shown["signing_key"] = MASK if self.signing_key else None
        shown["backend_config"] = redact_options(self.backend_config)
        return shown


def _read_environment(env: Env) -> dict[str, Any]:
    readers: dict[str, tuple[Any, Any]] = {
        "uri": (env.str, "./.kvmap"),
        "serialization_mode": (env.str, "auto"),
        "raise_on_nonexist": (env.bool, True),
        "default_ttl": (env.float, 0.0),
        "key_prefix": (env.str, ""),
        "read_only": (env.bool, False),
        "allow_pickle": (env.bool, True),
        "signing_key": (env.str, None),
    }
    values: dict[str, Any] = {}
    for name, (read, default) in readers.items():
        variable = ENV_PREFIX + name.upper()
        try:
            if os.environ.get(variable, "").strip() == "":
                values[name] = default  # an empty variable counts as unset
            else:
                values[name] = read(variable, default)
        except EnvError:
            raise ConfigError(_bad_variable(variable, name)) from None
    return values


#: Variables with the KVMAP_ prefix that are not settings but are known.
OTHER_VARIABLES = frozenset({"KVMAP_REDIS_DEBUG"})


def _warn_about_unknown_variables() -> None:
    known = {ENV_PREFIX + field.name.upper() for field in dataclasses.fields(Settings)}
    known |= OTHER_VARIABLES
    for variable in os.environ:
        if (
            not variable.startswith(ENV_PREFIX)
            or variable in known
            or variable.startswith((BACKEND_CONFIG_PREFIX, ENV_PREFIX + "TEST_"))
        ):
            continue
        guess = difflib.get_close_matches(variable, sorted(known), n=1)
        hint = f" (did you mean {guess[0]}?)" if guess else ""
        warnings.warn(
            f"{variable} is not a kvmap setting and is ignored{hint}",
            UserWarning,
            stacklevel=4,
        )


def _bad_variable(variable: str, name: str) -> str:
    value = os.environ.get(variable, "")
    shown = MASK if name == "signing_key" else repr(value)
    return f"{variable}={shown} is not valid: {_ALLOWED[name]}"


_ALLOWED = {
    "uri": "a path or a URI",
    "serialization_mode": f"one of {', '.join(MODES)}",
    "raise_on_nonexist": "a boolean (1/0, true/false, yes/no, on/off)",
    "default_ttl": "a number of seconds >= 0 (0 means never)",
    "key_prefix": "a key prefix such as 'app' or 'team/app'",
    "read_only": "a boolean (1/0, true/false, yes/no, on/off)",
    "allow_pickle": "a boolean (1/0, true/false, yes/no, on/off)",
    "signing_key": "a string",
    "backend_config": "a mapping of backend options",
}
_BOOLEANS = ("raise_on_nonexist", "read_only", "allow_pickle")


def _check_values(values: dict[str, Any], from_keyword: set[str]) -> None:
    def name_of(setting: str) -> str:
        if setting in from_keyword:
            return setting
        return ENV_PREFIX + setting.upper()

    def refuse(setting: str, allowed: str | None = None) -> None:
        value = values[setting]
        if allowed is None:
            allowed = _ALLOWED[setting]
            if setting in from_keyword and setting in _BOOLEANS:
                allowed = "True or False"
        raise ConfigError(f"{name_of(setting)}={value!r} is not valid: {allowed}")

    if values["serialization_mode"] not in MODES:
        refuse("serialization_mode")
    try:
        values["default_ttl"] = check_ttl(values["default_ttl"])
    except ValueError:
        refuse("default_ttl")
    for setting in _BOOLEANS:
        if not isinstance(values[setting], bool):
            refuse(setting)
    if not isinstance(values["uri"], str | os.PathLike) or not str(values["uri"]):
        refuse("uri")
    values["uri"] = os.fspath(values["uri"])
    for setting in ("key_prefix", "signing_key"):
        if values[setting] is not None and not isinstance(values[setting], str):
            refuse(setting)
    if values["key_prefix"]:
        try:
            check_key(values["key_prefix"].rstrip("/"))
        except InvalidKeyError as error:
            refuse("key_prefix", f"{_ALLOWED['key_prefix']} ({error})")
    if not isinstance(values.get("backend_config") or {}, Mapping):
        refuse("backend_config")


def describe_type(kind: Any) -> str:
    """Name a declared option type for an error message ("an int")."""
    names = {int: "an int", float: "a number", bool: "a boolean", dict: "a JSON object"}
    return names.get(kind, "a string" if kind is str else f"a {kind.__name__}")


def backend_environment_config(backend: type[Any]) -> dict[str, Any]:
    """Read the ``KVMAP_BACKEND_CONFIG__*`` variables, cast for ``backend``."""
    return _read_backend_environment(Env(expand_vars=False), backend.options)


def cast_option_text(text: str, kind: Any, name: str) -> Any:
    """Cast an option given as text (``name`` for errors) to its declared type.

    Undeclared options (``kind`` None) become booleans when they spell one and
    stay strings otherwise, as options from the environment do.
    """
    lowered = text.strip().lower()
    try:
        if kind is bool or (kind is None and lowered in _TRUE | _FALSE):
            if lowered not in _TRUE | _FALSE:
                raise ValueError(text)
            return lowered in _TRUE
        if kind is int or kind is float:
            return kind(text)
        if kind is dict:
            parsed = json.loads(text)
            if not isinstance(parsed, dict):
                raise ValueError(text)
            return parsed
    except ValueError:
        raise ConfigError(
            f"{name}={text!r} is not valid: expected {describe_type(kind)}"
        ) from None
    return text


def place_option(
    config: dict[str, Any], path: list[str], value: Any, group_name: Any
) -> None:
    """Set the option at ``path`` (nested names) in ``config`` to ``value``.

    ``group_name(path)`` names a group of options for an error: giving a group
    a value of its own, or options to a name that has a value, is refused.
    """
    target = config
    for depth, part in enumerate(path[:-1], start=1):
        target = target.setdefault(part, {})
        if not isinstance(target, dict):
            raise _group_error(group_name(path[:depth]))
    if isinstance(target.get(path[-1]), dict):
        raise _group_error(group_name(path))
    target[path[-1]] = value


def _read_backend_environment(env: Env, declared: Mapping[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for variable in sorted(os.environ):
        if not variable.startswith(BACKEND_CONFIG_PREFIX):
            continue
        path = variable[len(BACKEND_CONFIG_PREFIX) :].lower().split("__")
        kind = declared_type(declared, path)
        if isinstance(kind, Mapping):
            raise _group_error(_variable_of(path))
        place_option(config, path, _cast(env, variable, kind), _variable_of)
    return config


def _variable_of(path: list[str]) -> str:
    return BACKEND_CONFIG_PREFIX + "__".join(path).upper()


def _group_error(group: str) -> ConfigError:
    separator = "__" if group.startswith(BACKEND_CONFIG_PREFIX) else "."
    return ConfigError(
        f"{group} is a group of backend options and takes no value of its own: "
        f"set {group}{separator}<NAME> instead"
    )


def declared_type(declared: Mapping[str, Any], path: list[str]) -> Any:
    """Return the declared type of the option at ``path``, or None if undeclared."""
    kind: Any = declared
    for part in path:
        if not isinstance(kind, Mapping) or part not in kind:
            return None
        kind = kind[part]
    return kind


def _cast(env: Env, variable: str, kind: Any) -> Any:
    readers: dict[Any, Any] = {
        int: env.int,
        float: env.float,
        bool: env.bool,
        dict: env.json,
    }
    if kind in readers:
        try:
            return readers[kind](variable)
        except EnvError:
            value = os.environ[variable]
            raise ConfigError(
                f"{variable}={value!r} is not valid: expected {describe_type(kind)}"
            ) from None
    return cast_option_text(env.str(variable), kind, variable)


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for name, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(name), dict):
            merged[name] = _merge(merged[name], value)
        else:
            merged[name] = value
    return merged


def _check_backend_options(
    config: Mapping[str, Any], backend: type[Any], path: tuple[str, ...] = ()
) -> None:
    for name, value in config.items():
        option_path = (*path, name)
        option = ".".join(option_path)
        variable = BACKEND_CONFIG_PREFIX + "__".join(option_path).upper()
        kind = declared_type(backend.options, list(option_path))
        if kind is None:
            if backend.accepts_other_options:
                continue
            raise ConfigError(_unknown_option(option, backend))
        if isinstance(kind, Mapping):
            if not isinstance(value, Mapping):
                raise ConfigError(
                    f"backend option {option!r} ({variable}) must be a group of "
                    f"options: set {variable}__<NAME> variables"
                )
            _check_backend_options(value, backend, option_path)
        elif not _has_type(value, kind):
            expected = describe_type(kind)
            raise ConfigError(
                f"backend option {option!r}={value!r} (backend_config or "
                f"{variable}) is not valid: expected {expected}"
            )


def _has_type(value: Any, kind: type) -> bool:
    if kind is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def _unknown_option(option: str, backend: type[Any]) -> str:
    allowed = ", ".join(_option_names(backend.options)) or "none"
    variable = BACKEND_CONFIG_PREFIX + option.upper().replace(".", "__")
    return (
        f"unknown option {option!r} for {backend.__name__} "
        f"(backend_config or {variable}); allowed: {allowed}"
    )


def _option_names(declared: Mapping[str, Any], path: str = "") -> list[str]:
    names = []
    for name, kind in declared.items():
        if isinstance(kind, Mapping):
            names.extend(_option_names(kind, f"{path}{name}."))
        else:
            names.append(path + name)
    return names
