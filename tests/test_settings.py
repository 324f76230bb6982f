"""Settings from the environment, keyword overrides, and the factory."""

from __future__ import annotations

import os
import pickle

import pytest

import kvmap
from kvmap import ConfigError, FileBackend, MemoryBackend, Settings
from kvmap.backends import Backend, backend_class, register_backend
from kvmap.backends.fsspec import FsspecBackend


def _layers(store):
    names = []
    while True:
        names.append(type(store).__name__)
        if not hasattr(store, "inner"):
            return names
        store = store.inner


def test_defaults_when_nothing_is_set():
    settings = Settings.load()
    assert settings.uri == "./.kvmap"
    assert settings.serialization_mode == "auto"
    assert settings.raise_on_nonexist is True
    assert settings.default_ttl == 0
    assert settings.backend_config == {}


def test_default_store_is_the_hidden_local_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    store = kvmap.get_store()
    store["key"] = "value"
    assert (tmp_path / ".kvmap" / "key").is_file()
    assert _layers(store) == ["SerializerLayer", "TTLLayer", "FileBackend"]


def test_environment_is_read_at_call_time(monkeypatch):
    monkeypatch.setenv("KVMAP_URI", "memory://")
    monkeypatch.setenv("KVMAP_SERIALIZATION_MODE", "json")
    monkeypatch.setenv("KVMAP_DEFAULT_TTL", "2.5")
    monkeypatch.setenv("KVMAP_RAISE_ON_NONEXIST", "0")
    settings = Settings.load()
    assert settings.uri == "memory://"
    assert settings.serialization_mode == "json"
    assert settings.default_ttl == 2.5
    assert settings.raise_on_nonexist is False


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", False),
        ("no", False),
        ("false", False),
        ("off", False),
        ("1", True),
        ("yes", True),
        ("true", True),
        ("on", True),
    ],
)
def test_booleans_follow_environs(monkeypatch, text, expected):
    monkeypatch.setenv("KVMAP_RAISE_ON_NONEXIST", text)
    assert Settings.load().raise_on_nonexist is expected


def test_keywords_win_over_the_environment(monkeypatch):
    monkeypatch.setenv("KVMAP_URI", "memory://")
    monkeypatch.setenv("KVMAP_SERIALIZATION_MODE", "json")
    store = kvmap.get_store(serialization_mode="pickle", raise_on_nonexist=False)
    assert "mode='pickle'" in repr(store)
    assert store["missing"] is None


@pytest.mark.parametrize(
    ("variable", "value", "allowed"),
    [
        ("KVMAP_DEFAULT_TTL", "soon", "seconds"),
        ("KVMAP_DEFAULT_TTL", "-5", "seconds"),
        ("KVMAP_SERIALIZATION_MODE", "xml", "cloudpickle"),
        ("KVMAP_RAISE_ON_NONEXIST", "maybe", "boolean"),
        ("KVMAP_URI", "nosuchscheme://x", "known schemes"),
    ],
)
def test_bad_variable_names_variable_value_and_what_is_allowed(
    monkeypatch, variable, value, allowed
):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as raised:
        kvmap.get_store()
    message = str(raised.value)
    assert value in message
    assert allowed in message
    if variable != "KVMAP_URI":
        assert variable in message


def test_bad_keyword_names_the_keyword():
    with pytest.raises(ConfigError, match=r"default_ttl=-1"):
        kvmap.get_store("memory://", default_ttl=-1)


def test_unknown_backend_option_is_a_config_error_listing_allowed(tmp_path):
    with pytest.raises(ConfigError, match=r"'colour'.*allowed: durable"):
        kvmap.get_store(str(tmp_path), colour="blue")


def test_backend_config_from_environment_is_cast_by_declared_type(
    monkeypatch, tmp_path
):
    monkeypatch.setenv("KVMAP_URI", str(tmp_path))
    monkeypatch.setenv("KVMAP_BACKEND_CONFIG__DURABLE", "yes")
    store = kvmap.get_store()
    assert store.inner.inner.durable is True


def test_bad_declared_backend_option_names_the_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("KVMAP_URI", str(tmp_path))
    monkeypatch.setenv("KVMAP_BACKEND_CONFIG__DURABLE", "sometimes")
    with pytest.raises(ConfigError, match="KVMAP_BACKEND_CONFIG__DURABLE"):
        kvmap.get_store()


def test_undeclared_pass_through_options_cast_booleans_only(monkeypatch):
    monkeypatch.setenv("KVMAP_URI", "memory://kvmap-settings-test")
    monkeypatch.setenv("KVMAP_BACKEND_CONFIG__SKIP_INSTANCE_CACHE", "false")
    monkeypatch.setenv("KVMAP_BACKEND_CONFIG__CLIENT_KWARGS__REGION", "0042")
    config = Settings.load(uri="zip:///nowhere.zip").backend_config
    assert config == {
        "skip_instance_cache": False,
        "client_kwargs": {"region": "0042"},
    }


def test_keyword_backend_config_merges_key_by_key(monkeypatch):
    monkeypatch.setenv("KVMAP_BACKEND_CONFIG__CLIENT_KWARGS__REGION", "eu")
    monkeypatch.setenv("KVMAP_BACKEND_CONFIG__CLIENT_KWARGS__ENDPOINT_URL", "http://a")
    config = Settings.load(
        uri="zip:///nowhere.zip",
        backend_config={"client_kwargs": {"endpoint_url": "http://b"}},
    ).backend_config
    assert config == {"client_kwargs": {"region": "eu", "endpoint_url": "http://b"}}


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("./relative/folder", FileBackend),
        ("/absolute/folder", FileBackend),
        ("file:///absolute/folder", FileBackend),
        ("memory://", MemoryBackend),
        ("zip:///archive.zip", FsspecBackend),
    ],
)
def test_backend_is_chosen_by_uri_scheme(uri, expected):
    assert backend_class(uri) is expected


def test_third_party_backends_can_register_a_scheme():
    class EchoBackend(MemoryBackend):
        pass

    register_backend("echo", EchoBackend)
    store = kvmap.get_store("echo://anything")
    store["key"] = "value"
    assert isinstance(store.inner.inner, EchoBackend)
    assert issubclass(EchoBackend, Backend)


def test_signing_key_and_password_never_show(monkeypatch):
    monkeypatch.setenv("KVMAP_SIGNING_KEY", "very-secret-signing-key")
    settings = Settings.load(uri="zip:///x.zip", backend_config={"password": "hunter2"})
    shown = repr(settings) + repr(settings.describe())
    assert "very-secret-signing-key" not in shown
    assert "hunter2" not in shown


def test_full_stack_order_and_repr(tmp_path):
    store = kvmap.get_store(
        str(tmp_path),
        key_prefix="app",
        read_only=False,
        raise_on_nonexist=False,
        default_ttl=60,
    )
    assert _layers(store) == [
        "MissingKeyLayer",
        "SerializerLayer",
        "TTLLayer",
        "PrefixLayer",
        "FileBackend",
    ]
    assert str(tmp_path) in repr(store)


def test_full_stack_pickles_to_its_configuration(tmp_path):
    store = kvmap.get_store(str(tmp_path), key_prefix="app", default_ttl=60)
    store["key"] = {"a": 1}
    copy = pickle.loads(pickle.dumps(store))
    assert copy["key"] == {"a": 1}
    assert repr(copy) == repr(store)


def test_relative_path_is_resolved_when_the_store_is_made(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    store = kvmap.get_store("data")
    os.chdir("/")
    store["key"] = b"value"
    assert (tmp_path / "data" / "key").read_bytes() == b"value"


def test_backends_from_the_entry_point_group_are_found(monkeypatch):
    import kvmap.backends as backends

    class Found:
        name = "plugin"
        value = "kvmap.backends.memory:MemoryBackend"

    def entry_points(group):
        assert group == "kvmap.backends"
        return [Found()]

    monkeypatch.setattr(backends, "entry_points", entry_points)
    assert backend_class("plugin://x") is MemoryBackend


def test_missing_optional_dependency_names_the_extra(monkeypatch):
    import kvmap.backends as backends

    monkeypatch.setitem(backends.EXTRAS, "kvmap_absent_backend", "absent")
    register_backend("absent", "kvmap_absent_backend:Backend")
    with pytest.raises(ConfigError, match=r"pip install 'kvmap\[absent\]'"):
        backend_class("absent://x")


@pytest.mark.parametrize("scheme", ["file", "local", "FILE"])
def test_file_and_local_schemes_name_an_absolute_folder(tmp_path, scheme):
    store = kvmap.get_store(f"{scheme}://{tmp_path}/data")
    store["key"] = b"value"
    assert (tmp_path / "data" / "key").read_bytes() == b"value"


def test_a_group_of_options_set_as_one_variable_is_a_config_error(monkeypatch):
    monkeypatch.setenv("KVMAP_BACKEND_CONFIG__CLIENT_KWARGS", "1")
    monkeypatch.setenv("KVMAP_BACKEND_CONFIG__CLIENT_KWARGS__REGION", "eu")
    with pytest.raises(
        ConfigError, match="KVMAP_BACKEND_CONFIG__CLIENT_KWARGS__<NAME>"
    ):
        Settings.load(uri="zip:///x.zip")


def test_an_empty_variable_counts_as_unset(monkeypatch):
    monkeypatch.setenv("KVMAP_READ_ONLY", "")
    monkeypatch.setenv("KVMAP_DEFAULT_TTL", " ")
    settings = Settings.load()
    assert settings.read_only is False
    assert settings.default_ttl == 0


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"key_prefix": "../evil"}, "key_prefix='../evil'"),
        ({"key_prefix": 3}, "key_prefix=3"),
        ({"backend_config": "x"}, "backend_config='x'"),
        ({"read_only": "true"}, "True or False"),
    ],
)
def test_bad_keywords_are_config_errors_naming_them(overrides, named):
    with pytest.raises(ConfigError) as raised:
        kvmap.get_store("memory://", **overrides)
    assert named in str(raised.value)


def test_bad_key_prefix_from_the_environment_names_the_variable(monkeypatch):
    monkeypatch.setenv("KVMAP_KEY_PREFIX", "a//b")
    with pytest.raises(ConfigError, match="KVMAP_KEY_PREFIX='a//b'"):
        kvmap.get_store("memory://")


def test_a_misspelled_variable_is_warned_about(monkeypatch):
    monkeypatch.setenv("KVMAP_SERIALISATION_MODE", "json")
    with pytest.warns(UserWarning, match="did you mean KVMAP_SERIALIZATION_MODE"):
        settings = Settings.load()
    assert settings.serialization_mode == "auto"


def test_a_declared_option_of_the_wrong_type_names_its_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("KVMAP_BACKEND_CONFIG__SQL__ENGINE_KWARGS", "[1]")
    with pytest.raises(ConfigError, match="KVMAP_BACKEND_CONFIG__SQL__ENGINE_KWARGS"):
        kvmap.get_store(f"sqlite:///{tmp_path}/x.db")


def test_named_memory_uri_is_fsspecs_shared_memory_file_system():
    name = f"memory://kvmap-named-{os.getpid()}"
    first = kvmap.get_store(name)
    first["key"] = "shared"
    assert kvmap.get_store(name)["key"] == "shared"
    assert backend_class(name) is FsspecBackend
    assert backend_class("memory://") is MemoryBackend
    first.clear()


def test_file_uri_with_localhost_is_the_absolute_folder(tmp_path):
    store = kvmap.get_store(f"file://localhost{tmp_path}/data")
    store["key"] = b"value"
    assert (tmp_path / "data" / "key").is_file()


@pytest.mark.parametrize("uri", ["file://tmp/x", "file://otherhost/tmp/x", "local://x"])
def test_file_uri_with_a_host_or_without_absolute_path_is_refused(uri):
    with pytest.raises(ConfigError, match="absolute"):
        kvmap.get_store(uri)
