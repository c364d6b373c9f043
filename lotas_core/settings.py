"""Settings: a TOML file at the user config path, overridden by ``LOTAS_`` environment variables.

Sections are plain ``BaseModel``s inside one ``BaseSettings`` (nested ``BaseSettings`` ignore the
prefix: pydantic-settings issue 426). Passwords are never read from nor written to the file: they
come from the environment, the OS keyring, or a prompt (see ``transmission.credentials``).
"""

from __future__ import annotations

import os
import re
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from lotas_core.errors import ConfigError, UsageError, os_reason_fr
from lotas_core.reading.inflate import InflateLimits

APP_NAME = "lotas"
FINESS_PATTERN = re.compile(r"^(\d{2}|2A|2B)\d{7}$")
#: Keys that may never be stored in the config file (compared in lower case, as substrings).
SECRET_KEY_MARKERS = ("password", "passwd", "secret", "token")

_config_file: ContextVar[Path | None] = ContextVar("lotas_config_file", default=None)


def default_config_path() -> Path:
    """``LOTAS_CONFIG_FILE`` if set, else ``config.toml`` in the platform's user config folder."""
    env = os.environ.get("LOTAS_CONFIG_FILE")
    if env:
        return Path(env).expanduser()
    return platformdirs.user_config_path(APP_NAME) / "config.toml"


def default_data_dir() -> Path:
    """The platform's user data folder (history database, spools, demo archive)."""
    return platformdirs.user_data_path(APP_NAME)


def validate_finess(value: str) -> str:
    """Return the FINESS upper-cased, or raise ``ValueError`` with a French explanation."""
    candidate = value.strip().upper()
    if not FINESS_PATTERN.match(candidate):
        raise ValueError(
            "FINESS invalide : 9 caractères attendus, 2 chiffres (ou 2A/2B) puis 7 chiffres"
        )
    return candidate


def require_finess(value: str | None) -> str:
    """The FINESS given (command line or settings), validated; ``UsageError`` if none or bad."""
    if not value:
        raise UsageError(
            "Aucun FINESS : passez --finess 000000001 ou renseignez « finess » dans les "
            "paramètres (lotas config).",
            "no FINESS given on the command line nor in the settings",
        )
    try:
        return validate_finess(value)
    except ValueError as exc:
        raise UsageError(f"{exc} (reçu : « {value} »).", f"invalid FINESS {value!r}") from None


class ArchiveSettings(BaseModel):
    """Where the PIVOINE archives are."""

    use_default: bool = True
    """Use the recommended folder (``<data_dir>/archives/<the campaign's sub-folder>``, ``PSY``
    for PSY SMA 2021) rather than ``path``."""

    path: Path | None = None
    """The chosen folder when ``use_default`` is false."""


class TransportSettings(BaseModel):
    """Which transport sends draws to QUALHAS, and each transport's options."""

    name: str = "transport_direct"
    """The registered transport used by ``lotas transmit`` and the UI."""

    options: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Options per transport name, validated by that transport's own options model."""


class ReadingSettings(BaseModel):
    """Bounds on reading archives: far above any real PIVOINE archive, they stop a hostile or
    broken one (a "zip bomb") before it fills the memory (``docs/reader.md``)."""

    max_member_mib: int = Field(2048, ge=1, le=1 << 20)
    """Largest member (RAA, RPS) once inflated, and largest archive file, in MiB."""

    max_compression_ratio: int = Field(100, ge=2)
    """Largest ratio of a member's inflated size to its compressed size."""

    def limits(self) -> InflateLimits:
        """These bounds as the reader takes them."""
        return InflateLimits(self.max_member_mib << 20, self.max_compression_ratio)


class UISettings(BaseModel):
    """Behaviour of the terminal screen."""

    copy_after_draw: bool = True
    """Put a new draw on the clipboard as soon as it is made, as the original tool does."""


class Settings(BaseSettings):
    """All of lotas' settings; see ``lotas config`` for the resolved values and their file."""

    model_config = SettingsConfigDict(
        env_prefix="LOTAS_",
        env_nested_delimiter="__",
        extra="ignore",
        validate_default=True,
    )

    finess: str | None = None
    """The establishment's FINESS (9 characters: 2 digits or 2A/2B, then 7 digits)."""

    financing: Literal["DGF", "OQN"] = "DGF"
    """The establishment's financing: DGF or OQN."""

    campaign: str = "psy_sma_2021"
    """The campaign whose selection and draw are made."""

    archives: ArchiveSettings = Field(default_factory=ArchiveSettings)
    """Where the PIVOINE archives are."""

    transport: TransportSettings = Field(default_factory=TransportSettings)
    """How draws reach QUALHAS."""

    ui: UISettings = Field(default_factory=UISettings)
    """Behaviour of the terminal screen."""

    reading: ReadingSettings = Field(default_factory=ReadingSettings)
    """Bounds on reading archives (inflated size, compression ratio)."""

    disabled_plugins: list[str] = Field(default_factory=list)
    """Plugin names (entry-point names) not to load."""

    data_dir: Path = Field(default_factory=default_data_dir)
    """History database, spools and the demo archive (``LOTAS_DATA_DIR``)."""

    @field_validator("finess")
    @classmethod
    def _check_finess(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        return validate_finess(value)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Precedence: explicit arguments, then the environment, then the TOML file."""
        path = _config_file.get()
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if path is not None and path.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    def archive_folder_for(self, subfolder: str) -> Path:
        """The folder actually searched for archives, given the campaign's default sub-folder
        (``Lotas.archive_folder`` passes it)."""
        if self.archives.use_default or self.archives.path is None:
            return self.data_dir / "archives" / subfolder
        return self.archives.path.expanduser()

    @property
    def history_path(self) -> Path:
        """The SQLite history database."""
        return self.data_dir / "history.sqlite3"

    def transport_options(self, name: str) -> dict[str, Any]:
        """The raw options configured for one transport (empty when none)."""
        return dict(self.transport.options.get(name, {}))


class LoadedSettings(BaseModel):
    """Settings plus where they came from, for ``lotas config`` and the UI."""

    settings: Settings
    config_file: Path
    config_file_found: bool


def _is_secret_key(key: object) -> bool:
    """True for a key that looks like a password (``SECRET_KEY_MARKERS``)."""
    return any(marker in str(key).lower() for marker in SECRET_KEY_MARKERS)


def _find_secret_keys(data: Any, prefix: str = "") -> list[str]:
    found: list[str] = []
    if isinstance(data, dict):
        for key, value in data.items():
            dotted = f"{prefix}{key}"
            if _is_secret_key(key):
                found.append(dotted)
            found.extend(_find_secret_keys(value, dotted + "."))
    return found


def load_settings(config_file: Path | None = None, **overrides: Any) -> LoadedSettings:
    """Read the TOML file (if any) and the environment; raise ``ConfigError`` on bad values."""
    import tomllib

    path = config_file or default_config_path()
    try:
        found = path.is_file()
        if not found and path.exists():  # a folder (or a device) where the file should be
            raise ConfigError(
                f"Le fichier de paramètres {path} n'est pas un fichier (c'est un dossier ?) : "
                "indiquez un fichier TOML avec --config ou LOTAS_CONFIG_FILE.",
                f"config path {path} is not a regular file",
            )
    except OSError as exc:  # no right to look into its folder
        raise ConfigError(
            f"Fichier de paramètres inaccessible : {path} ({os_reason_fr(exc)}) : vérifiez les "
            "droits de votre compte, ou indiquez un autre fichier avec --config.",
            f"config path {path} cannot be examined: {exc}",
        ) from None
    if found:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
            from lotas_core.reasons import file_reason_fr

            raise ConfigError(
                f"Fichier de paramètres illisible : {path} ({file_reason_fr(exc)}). Corrigez-le "
                "ou supprimez-le.",
                f"Unreadable config file {path}: {exc}",
            ) from None
        secrets = _find_secret_keys(raw)
        if secrets:
            raise ConfigError(
                f"Le fichier de paramètres {path} contient un mot de passe ({', '.join(secrets)}) :"
                " retirez-le ; les mots de passe viennent de l'environnement ou du trousseau.",
                f"Config file {path} holds secret keys {secrets}; passwords are never stored there",
            )
    token = _config_file.set(path)
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_describe_validation_error(exc, path), str(exc)) from None
    finally:
        _config_file.reset(token)
    return LoadedSettings(settings=settings, config_file=path, config_file_found=found)


def _describe_validation_error(exc: ValidationError, path: Path) -> str:
    from lotas_core.french import validation_problem

    field, message = validation_problem(exc)
    return (
        f"Paramètre « {field} » invalide : {message}. Corrigez {path} "
        f"ou la variable d'environnement LOTAS_{field.upper().replace('.', '__')}."
    )


def strip_secrets(data: Any) -> Any:
    """A copy of ``data`` without any key that looks like a password."""
    if isinstance(data, dict):
        return {
            key: strip_secrets(value)
            for key, value in data.items()
            if not _is_secret_key(key)
        }
    if isinstance(data, list):
        return [strip_secrets(item) for item in data]
    return data


def save_settings(settings: Settings, path: Path | None = None) -> Path:
    """Write the settings to the TOML file atomically, never with a password."""
    import tomli_w

    from lotas_core.fsutil import atomic_write_bytes

    target = path or default_config_path()
    data = settings.model_dump(mode="json", exclude_none=True)
    if "LOTAS_DATA_DIR" in os.environ:  # a folder given by the environment stays there
        data.pop("data_dir", None)
    atomic_write_bytes(target, tomli_w.dumps(strip_secrets(data)).encode("utf-8"), private=False)
    return target


def update_settings_file(path: Path, keys: tuple[str, ...], value: Any) -> Path:
    """Set one value in the TOML file (created if missing), keeping everything else as it is.

    For values lotas records on the user's behalf (a trusted certificate fingerprint); never a
    secret (``SECRET_KEY_MARKERS`` are refused).
    """
    import tomllib

    import tomli_w

    from lotas_core.fsutil import atomic_write_bytes

    if any(_is_secret_key(key) for key in keys):
        raise ValueError("a secret is never written to the settings file")
    path = Path(path)
    data: dict[str, Any] = {}
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
            raise ConfigError(
                f"Fichier de paramètres illisible : {path} ({exc}). Corrigez-le ou supprimez-le.",
                f"Unreadable config file {path}: {exc}",
            ) from None
    node = data
    for key in keys[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            child = node[key] = {}
        node = child
    node[keys[-1]] = value
    atomic_write_bytes(path, tomli_w.dumps(data).encode("utf-8"), private=False)
    return path
