"""The only Prefect module: tasks wrap steps; the nightly and weekly flows; their deployments.

One task per batch of sources or per stage, never per item (a task run costs the Prefect server
25-50 ms of CPU, more than crawling a feed: the crawl makes 4 tasks per worker, each a batch of whole
origins, see nightly.batch_by_origin). The crawl fans out on the task runner that
`settings.task_runner` names, read at run time (so a deployment follows sources.yaml): a bounded
thread pool of `settings.workers` (default), or a Dask cluster (see nightly.crawl_group). Either way the results
come back to the flow, the store's single writer. Deployments are served by `veille serve` or
registered on a process work pool by `veille deploy --pool NAME`.
"""

from __future__ import annotations

import logging
from contextlib import ExitStack, contextmanager, nullcontext
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Sequence

from prefect import deploy, flow, serve, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.deployments.runner import EntrypointType
from prefect.exceptions import ObjectNotFound
from prefect.logging import get_run_logger
from prefect.schedules import Cron
from prefect.context import FlowRunContext
from prefect.settings import (
    PREFECT_API_URL,
    PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
    PREFECT_LOGGING_EXTRA_LOGGERS,
    PREFECT_SERVER_ANALYTICS_ENABLED,
    temporary_settings,
)
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner
from prefect.workers.process import ProcessWorker

from pipeline.steps import weekly

from pipeline.steps import outreach as map_steps

from pipeline.steps import nightly
from pipeline.config import Config, load_config
from pipeline.crawl.fetch import Fetcher
from pipeline.models import CrawlResult, Source, SourceState, TaskRunnerSettings
from pipeline.progress import CrawlBoard

NIGHTLY_CRON = "0 2 * * *"  # 02:00 Europe/Paris
WEEKLY_CRON = "0 7 * * 1"  # Monday 07:00 Europe/Paris
TIMEZONE = "Europe/Paris"
MAX_WORKERS = 8
TASKS_PER_WORKER = 4  # crawl tasks per worker thread: each crawls a batch of sources (CPU: see docs/scaling.md)

prepare_task = task(nightly.prepare_crawl, name="prepare-crawl", cache_policy=NO_CACHE)
crawl_batch_task = task(nightly.crawl_batch, name="crawl-sources", cache_policy=NO_CACHE,
                        task_run_name="crawl-{sources[0].id}-and-more")
crawl_group_task = task(nightly.crawl_group, name="crawl-origin", cache_policy=NO_CACHE,
                        task_run_name="crawl-{sources[0].id}")
record_task = task(nightly.record_crawl, name="record-crawl", cache_policy=NO_CACHE)
cluster_task = task(nightly.cluster_new_items, name="cluster-items", cache_policy=NO_CACHE)
tag_task = task(nightly.tag_items, name="tag-items", cache_policy=NO_CACHE)
score_task = task(nightly.score_items, name="score-items", cache_policy=NO_CACHE)
finish_task = task(nightly.finish_run, name="publish-snapshot", cache_policy=NO_CACHE)
outreach_task = task(map_steps.refresh_initiatives, name="detect-initiatives", cache_policy=NO_CACHE)
map_task = task(map_steps.publish_outreach_map, name="publish-map", cache_policy=NO_CACHE)
build_digest_task = task(weekly.build_week_digest, name="build-digest", cache_policy=NO_CACHE)
# no task retries: mail.send_message already retries; a refusal then fails the run, and the next run sends
send_digest_task = task(weekly.send_week_digest, name="send-digest", cache_policy=NO_CACHE)


@flow(name="veille-nightly", task_runner=ThreadPoolTaskRunner(max_workers=MAX_WORKERS), log_prints=True)
def nightly_flow(
    sources_path: str = "sources.yaml",
    db_path: str = "outputs/veille.duckdb",
    initiatives_path: str = "initiatives.yaml",
    show_progress: bool = False,
) -> dict[str, int]:
    """Crawl every source, store new items, cluster, tag, score, refresh the outreach map,
    and publish the analysts' snapshot. `show_progress`: each source's progress on stderr."""
    logger = get_run_logger()
    config = load_config(Path(sources_path))
    map_steps.load_manual_initiatives(Path(initiatives_path))  # invalid file: fail before crawling
    stages = nightly.TimedStages(PrefectStages(show_progress))
    summary, counts = nightly.run_nightly(config, Path(db_path), Path(initiatives_path), datetime.now(timezone.utc),
                                          stages)
    logger.info("nightly run %s: %s; %s", summary.run_id, counts, stages.report())
    for source_id, code in summary.failures:
        logger.warning("source %s failed: %s", source_id, code)
    return counts


class PrefectStages:
    """nightly.NightlyStages on Prefect: each step runs as its task, the crawl on the task runner."""

    TASKS = {t.fn: t for t in (prepare_task, record_task, cluster_task, tag_task, score_task, outreach_task,
                               map_task, finish_task)}

    def __init__(self, show_progress: bool = False):
        self.show_progress = show_progress

    def run(self, step, *args, **kwargs):
        return self.TASKS[step](*args, **kwargs)

    def crawl(self, config: Config, sources: Sequence[Source], states: dict[str, SourceState],
              now: datetime) -> list[CrawlResult]:
        return crawl_sources(config, sources, states, now, self.show_progress)


def crawl_sources(config: Config, sources: Sequence[Source], states: dict[str, SourceState],
                  now: datetime, show_progress: bool = False) -> list[CrawlResult]:
    """Crawl every source on the configured task runner; the results come back to the flow.
    `show_progress` (thread pool only): each source's progress on the terminal."""
    if config.task_runner.kind == "threads":
        with ExitStack() as stack:
            fetcher = stack.enter_context(Fetcher(config.crawl))
            runner = stack.enter_context(ThreadPoolTaskRunner(max_workers=config.workers))
            listener = stack.enter_context(CrawlBoard()).listener if show_progress else None
            futures = [runner.submit(crawl_batch_task, {"sources": batch, "fetcher": fetcher, "now": now,
                                                        "states": {s.id: states[s.id] for s in batch},
                                                        "on_progress": listener})
                       for batch in nightly.batch_by_origin(sources, config.workers * TASKS_PER_WORKER)]
            by_source = {result.source_id: result for f in futures for result in f.result()}
        return [by_source[s.id] for s in sources]
    with temporary_settings(updates={PREFECT_API_URL: api_url_for_workers(config.task_runner)}), \
            patient_dask(), dask_task_runner(config.task_runner) as runner:
        futures = [runner.submit(crawl_group_task, {"sources": batch, "settings": config.crawl, "now": now,
                                                    "states": {s.id: states[s.id] for s in batch}})
                   for batch in nightly.batch_by_origin(sources, config.workers * TASKS_PER_WORKER)]
        by_source = {result.source_id: result for f in futures for result in f.result()}
    return [by_source[s.id] for s in sources]  # the thread pool's order: the store keeps the first of duplicates


class NoServerForCluster(Exception):
    """An existing Dask cluster cannot reach Prefect's temporary server: it needs PREFECT_API_URL."""


def api_url_for_workers(settings: TaskRunnerSettings) -> str:
    """The Prefect API the cluster's workers report task runs to: the configured server, else (local
    cluster only) the temporary server of this flow run, which is on this machine's loopback."""
    configured = PREFECT_API_URL.value()
    if configured:
        return configured
    if settings.address:
        raise NoServerForCluster("task_runner.address needs a Prefect server: set PREFECT_API_URL (see README)")
    return str(FlowRunContext.get().client.api_url)


@contextmanager
def patient_dask() -> Iterator[None]:
    """Dask's connections wait minutes, not 30 s, for a busy peer: on a loaded machine a worker whose
    event loop starves behind crawl threads was dropped and its tasks never came back (measured).
    A local cluster's worker processes inherit this configuration."""
    import dask

    with dask.config.set({"distributed.comm.timeouts.tcp": "600s", "distributed.comm.timeouts.connect": "120s"}):
        yield


def dask_task_runner(settings: TaskRunnerSettings) -> TaskRunner:
    """prefect-dask's runner: on the cluster at `address`, else on a local cluster of worker processes."""
    from prefect_dask import DaskTaskRunner  # imported only when used: it brings in dask.distributed

    if settings.address:
        return DaskTaskRunner(address=settings.address)
    return DaskTaskRunner(cluster_kwargs={"n_workers": settings.n_workers, "processes": True,
                                          "threads_per_worker": settings.threads_per_worker,
                                          "dashboard_address": None})


@flow(name="veille-weekly-digest", log_prints=True)
def weekly_flow(
    db_path: str = "outputs/veille.duckdb",
    week: str | None = None,
    out_dir: str = "outputs/digests",
    send: bool = True,
    force: bool = False,
) -> str:
    """Build the week's digest, archive it, publish a preview artifact, and send it once."""
    now = datetime.now(timezone.utc)
    db = Path(db_path)
    built = build_digest_task(db, week, now, Path(out_dir))
    create_markdown_artifact(
        key=f"digest-{built.digest.week.lower()}", markdown=built.markdown_preview, description=built.digest.subject
    )
    if not send:
        return "built"
    return send_digest_task(db, built, force)


def run_nightly_now(sources_path: Path, db_path: Path, initiatives_path: Path = Path("initiatives.yaml"),
                    show_progress: bool = False) -> dict[str, int]:
    """`veille run`: the nightly flow, once, now (ephemeral Prefect unless a server is configured).
    With `show_progress`, each source's progress replaces Prefect's line per task."""
    with quiet_prefect(), (_prefect_warnings_only() if show_progress else nullcontext()):
        return nightly_flow(str(sources_path), str(db_path), str(initiatives_path), show_progress)


def run_weekly_now(db_path: Path, week: str | None, out_dir: Path, send: bool, force: bool) -> str:
    with quiet_prefect():
        return weekly_flow(str(db_path), week, str(out_dir), send, force)


@contextmanager
def quiet_prefect() -> Iterator[None]:
    """Settings for one-off runs: no heartbeat wait, no analytics, our loggers shown by Prefect."""
    with temporary_settings(
        updates={
            PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None,
            PREFECT_SERVER_ANALYTICS_ENABLED: False,
            PREFECT_LOGGING_EXTRA_LOGGERS: ["pipeline"],
        }
    ):
        yield


@contextmanager
def _prefect_warnings_only() -> Iterator[None]:
    """Prefect's console says only warnings and errors (no line per task run)."""
    loggers = [logging.getLogger(name) for name in ("prefect", "prefect.flow_runs", "prefect.task_runs", "pipeline")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def build_deployments(sources_path: Path, db_path: Path, out_dir: Path, initiatives_path: Path,
                      entrypoint_type: EntrypointType = EntrypointType.FILE_PATH) -> list:
    """The two deployments: nightly crawl at 02:00 and weekly digest on Monday 07:00, Europe/Paris."""
    nightly = nightly_flow.to_deployment(
        name="nightly-crawl",
        schedules=[Cron(NIGHTLY_CRON, timezone=TIMEZONE)],
        parameters={"sources_path": str(sources_path), "db_path": str(db_path),
                    "initiatives_path": str(initiatives_path)},
        description="Crawl every source, dedupe, tag, score, refresh the outreach map, publish the snapshot.",
        entrypoint_type=entrypoint_type,
    )
    weekly = weekly_flow.to_deployment(
        name="weekly-digest",
        schedules=[Cron(WEEKLY_CRON, timezone=TIMEZONE)],
        parameters={"db_path": str(db_path), "out_dir": str(out_dir), "send": True},
        description="Build and send the officer's weekly digest (exactly once per week).",
        entrypoint_type=entrypoint_type,
    )
    return [nightly, weekly]


def serve_deployments(sources_path: Path, db_path: Path, out_dir: Path, initiatives_path: Path) -> None:
    """`veille serve`: serve both deployments until stopped; stopping does not pause their schedules."""
    deployments = build_deployments(sources_path, db_path, out_dir, initiatives_path)
    logging.getLogger(__name__).info("serving deployments veille-nightly and veille-weekly-digest")
    with temporary_settings(updates={PREFECT_LOGGING_EXTRA_LOGGERS: ["pipeline"]}):
        serve(*deployments, pause_on_shutdown=False)


def deploy_to_pool(pool: str, sources_path: Path, db_path: Path, out_dir: Path, initiatives_path: Path) -> list:
    """`veille deploy`: register both deployments on the process work pool `pool` (created if missing).

    Workers (`prefect worker start --pool NAME`) import the flows from the installed package, so
    the paths are made absolute: every worker machine must see them at the same place."""
    paths = [p.resolve() for p in (sources_path, db_path, out_dir, initiatives_path)]
    ensure_process_pool(pool)
    deployments = build_deployments(*paths, entrypoint_type=EntrypointType.MODULE_PATH)
    return deploy(*deployments, work_pool_name=pool, build=False, push=False,
                  print_next_steps_message=False, ignore_warnings=True)


def ensure_process_pool(pool: str) -> None:
    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(pool)
        except ObjectNotFound:
            template = ProcessWorker.get_default_base_job_template()
            client.create_work_pool(WorkPoolCreate(name=pool, type="process", base_job_template=template))


def configured_api_url() -> str | None:
    """The Prefect server this process would report to (None: Prefect would start an ephemeral one)."""
    return PREFECT_API_URL.value() or None
