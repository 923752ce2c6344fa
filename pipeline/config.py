"""sources.yaml + environment -> Config, checked once, every error at once with its place.

`load_config(path)` returns a Config or raises ConfigInvalid, whose `errors` list every problem
with its line in the file. `read_yaml_validated` is the reusable part: any YAML file checked by any
pydantic model, errors mapped back to lines (initiatives.yaml uses it too).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Mapping, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipeline.models import CrawlSettings, Source, TaskRunnerSettings

DEFAULT_SOURCES = Path("sources.yaml")
DEFAULT_DB = Path("outputs/veille.duckdb")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
HAL_SEARCH_URL = "https://api.archives-ouvertes.fr/search/"  # kind: hal, when the source gives no url
HAL_COLLECTION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class ConfigError:
    file: str
    line: int | None  # 1-based
    location: str  # e.g. "sources[2].kind"
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.location}: {self.message}" if self.location else f"{where}: {self.message}"


class ConfigInvalid(Exception):
    """The configuration has errors; `errors` lists them all."""

    def __init__(self, errors: list[ConfigError]):
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TaskRunnerModel(_Strict):
    kind: Literal["threads", "dask"] = "threads"
    address: str | None = Field(None, pattern=r"^(tcp|tls|ucx|inproc)://\S+$")
    n_workers: int = Field(TaskRunnerSettings.n_workers, ge=1, le=256)
    threads_per_worker: int = Field(TaskRunnerSettings.threads_per_worker, ge=1, le=64)


class SettingsModel(_Strict):
    user_agent: str = CrawlSettings.user_agent
    connect_timeout_s: float = Field(CrawlSettings.connect_timeout_s, gt=0, le=120)
    read_timeout_s: float = Field(CrawlSettings.read_timeout_s, gt=0, le=300)
    total_timeout_s: float = Field(CrawlSettings.total_timeout_s, gt=0, le=600)
    max_body_bytes: int = Field(CrawlSettings.max_body_bytes, gt=1000, le=200_000_000)
    max_redirects: int = Field(CrawlSettings.max_redirects, ge=0, le=20)
    per_origin_delay_s: float = Field(CrawlSettings.per_origin_delay_s, ge=0, le=60)
    per_origin_concurrency: int = Field(CrawlSettings.per_origin_concurrency, ge=1, le=8)
    max_retries: int = Field(CrawlSettings.max_retries, ge=0, le=5)
    max_retry_after_s: float = Field(CrawlSettings.max_retry_after_s, ge=0, le=3600)
    obey_robots: bool = True
    allowed_networks: tuple[str, ...] = ()
    workers: int = Field(8, ge=1, le=64, description="sources crawled at once")
    dedupe_window_days: int = Field(60, ge=1, le=3650)
    task_runner: TaskRunnerModel = TaskRunnerModel()

    @field_validator("allowed_networks")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        import ipaddress

        for network in value:
            ipaddress.ip_network(network, strict=False)
        return value


class SourceModel(_Strict):
    id: str
    name: str = Field(min_length=1)
    kind: Literal["feed", "html", "sitemap", "hal"]
    url: str
    category: Literal["research", "teaching", "student", "mixed"]
    item_selector: str | None = None
    next_selector: str | None = None
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    full_text: Literal["auto", "always", "never"] = "auto"
    max_pages: int = Field(Source.max_pages, ge=1, le=1000)
    max_new_items: int = Field(Source.max_new_items, ge=1, le=100_000)
    time_budget_s: float = Field(Source.time_budget_s, gt=0, le=86_400)
    enabled: bool = True
    collection: str | None = None  # kind: hal
    structure: str | None = None  # kind: hal

    @model_validator(mode="before")
    @classmethod
    def _hal_defaults(cls, data: Any) -> Any:
        """A hal source may leave out url (HAL's search API) and category (research)."""
        if isinstance(data, dict) and data.get("kind") == "hal":
            data = {"url": HAL_SEARCH_URL, "category": "research", **data}
        return data

    @model_validator(mode="after")
    def _hal_target(self) -> "SourceModel":
        if self.kind != "hal":
            if self.collection is not None or self.structure is not None:
                raise ValueError("collection and structure are for kind: hal only")
            return self
        if (self.collection is None) == (self.structure is None):
            raise ValueError("a hal source names exactly one of collection (e.g. LPEM) or structure (e.g. 123456)")
        if self.collection is not None and not HAL_COLLECTION.match(self.collection):
            raise ValueError(f"collection {self.collection!r} is not a HAL collection code (letters, digits, - and _)")
        if self.structure is not None and not str(self.structure).isdigit():
            raise ValueError(f"structure {self.structure!r} is not a HAL structure id (digits)")
        return self

    @field_validator("structure", mode="before")
    @classmethod
    def _structure_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.match(value):
            raise ValueError("must be a slug: lower-case letters, digits and '-' (e.g. lab-lpem)")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("include", "exclude")
    @classmethod
    def _regexes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from exc
        return value


class SourcesFile(_Strict):
    settings: SettingsModel = SettingsModel()
    sources: list[SourceModel] = Field(min_length=1)


@dataclass(frozen=True)
class Config:
    path: Path
    sources: tuple[Source, ...]
    crawl: CrawlSettings
    workers: int
    dedupe_window_days: int
    task_runner: TaskRunnerSettings = TaskRunnerSettings()

    def source(self, source_id: str) -> Source:
        return next(s for s in self.sources if s.id == source_id)


def read_yaml_validated(path: Path, model: type[M]) -> tuple[M | None, list[ConfigError]]:
    """Parse a YAML file and validate it with `model`; every error comes back with its line."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, [ConfigError(name, None, "", "file not found")]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [ConfigError(name, None, "", f"cannot read: {exc}")]
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        return None, [ConfigError(name, line, "", f"not valid YAML: {getattr(exc, 'problem', exc)}")]
    try:
        return model.model_validate(data if data is not None else {}), []
    except ValidationError as exc:
        return None, [_to_config_error(name, node, err) for err in exc.errors()]


def _to_config_error(name: str, root: yaml.Node | None, err: Mapping[str, Any]) -> ConfigError:
    loc = tuple(err["loc"])
    location = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
    message = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        message = f"unknown key {loc[-1]!r}"
    elif err["type"] == "missing":
        message = "required key is missing"
    return ConfigError(name, _line_of(root, loc), location, message)


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the YAML node at `loc`, or of its deepest existing parent."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        child = _child(node, part)
        if child is None:
            break
        node, line = child, child.start_mark.line + 1
    return line


def _child(node: yaml.Node | None, part: Any) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == part:
                return key if isinstance(value, yaml.ScalarNode) and value.value == "" else value
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        return node.value[part]
    return None


def load_config(path: Path = DEFAULT_SOURCES) -> Config:
    """Read and check sources.yaml; raise ConfigInvalid listing every problem."""
    parsed, errors = read_yaml_validated(Path(path), SourcesFile)
    errors = merge_errors(errors, duplicate_id_errors(Path(path), "sources", "source"))
    if parsed is None or errors:
        raise ConfigInvalid(errors)
    settings = parsed.settings
    crawl_fields = {k: v for k, v in settings.model_dump().items() if k in CrawlSettings.__dataclass_fields__}
    runner = TaskRunnerSettings(**settings.task_runner.model_dump())
    return Config(
        path=Path(path),
        sources=tuple(Source(**s.model_dump()) for s in parsed.sources),
        crawl=CrawlSettings(**crawl_fields),
        workers=settings.workers,
        dedupe_window_days=settings.dedupe_window_days,
        task_runner=runner,
    )


def duplicate_id_errors(path: Path, list_key: str, noun: str) -> list[ConfigError]:
    """Entries of the list `list_key` whose `id` repeats an earlier one, with their lines. Read from
    the YAML itself, so they are reported together with every other error (the model alone reports
    them only once every field is valid)."""
    try:
        root = yaml.compose(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []  # read_yaml_validated already reports why the file cannot be read
    entries = _child(root, list_key)
    seen: set[str] = set()
    errors = []
    for index, node in enumerate(entries.value if isinstance(entries, yaml.SequenceNode) else []):
        id_node = _child(node, "id")
        if not isinstance(id_node, yaml.ScalarNode):
            continue
        if id_node.value in seen:
            errors.append(ConfigError(str(path), id_node.start_mark.line + 1, f"{list_key}[{index}].id",
                                      f"duplicate {noun} id {id_node.value!r}"))
        seen.add(id_node.value)
    return errors


def merge_errors(*groups: list[ConfigError]) -> list[ConfigError]:
    """One list in file order, without the same error twice."""
    unique = {(e.file, e.line, e.location, e.message): e for group in groups for e in group}
    return sorted(unique.values(), key=lambda e: (e.line or 0, e.location))


def database_path(cli_value: str | os.PathLike[str] | None = None, environ: Mapping[str, str] = os.environ) -> Path:
    """The DuckDB file: --db, else VEILLE_DB, else outputs/veille.duckdb."""
    return Path(cli_value or environ.get("VEILLE_DB") or DEFAULT_DB)
