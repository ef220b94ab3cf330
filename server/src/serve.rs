//! `bidline serve`: open the database, bring it up to date, and serve HTTP until a
//! signal says stop.

use std::{future::IntoFuture, sync::Arc, time::Duration};

use leptos::prelude::LeptosOptions;
use tokio::net::TcpListener;

use bidline_telephony::edge::{self, Edge};

use crate::{
    StartError,
    accounts::throttle::Throttle,
    billing::{Billing, StripeApi},
    calls::{
        counters::{self, Counters},
        recent::Recent,
        recorder::Recorder,
        recovery,
        spool::Spool,
        writer::{self, Writer},
    },
    config::Cli,
    db::{self, Backend, Db, nodes::NodeInfo},
    demo,
    dni::{self, Dni, book::Book},
    http::{self, AppState, Metrics, session},
    limits::TrustedProxies,
    ping::Pinger,
    routing::{
        loopback::{self, Line},
        router::CallRouter,
        snapshot::Routing,
    },
    secrets::{self, SecretKey},
    shutdown::Signals,
    tasks::Tasks,
    webhooks,
};

pub async fn run(cli: &Cli) -> Result<(), StartError> {
    run_with(cli, None).await
}

/// `bidline demo`: `serve` with the demo organization's traffic.
pub async fn run_demo(cli: &Cli, demo: demo::Settings) -> Result<(), StartError> {
    run_with(cli, Some(demo)).await
}

async fn run_with(cli: &Cli, demo: Option<demo::Settings>) -> Result<(), StartError> {
    let signals = Signals::install().map_err(StartError::Signals)?;
    let tasks = Tasks::default();
    let metrics = Metrics::install(&tasks).map_err(StartError::Metrics)?;
    // Before anything is created: a wrong path or address must not leave a database behind.
    if cli.sip_addr.ip().is_unspecified() && cli.sip_advertise.is_none() {
        return Err(StartError::SipAdvertise(cli.sip_addr));
    }
    let geo = match &cli.geoip_db {
        Some(path) => Some(
            dni::geo::Geo::open(path)
                .map_err(|source| StartError::Geo { path: path.clone(), source })?,
        ),
        None => None,
    };
    let database_url = cli.database_url()?;
    let grace = chrono::Duration::days(cli.billing_grace_days.into());
    let api = StripeApi {
        base: cli.stripe_api_base.to_string(),
        timeout: Duration::from_millis(cli.stripe_timeout_ms),
    };
    let invoice_delay = chrono::Duration::hours(cli.invoice_after_hours.into());
    let billing = Billing::new(cli.stripe()?, grace, cli.public_url.clone(), api, invoice_delay)
        .map_err(StartError::Stripe)?;
    let db = Db::connect(&database_url).await?;
    db.migrate().await?;
    crate::network::numbers::report_released(&db).await.map_err(StartError::Released)?;
    let key = secret_key(cli)?;
    secrets::secret_key_check(&db, &key).await?;
    secrets::install(key);
    crate::outbound::set_private_allowed(cli.allow_private_targets);

    let listener = TcpListener::bind(cli.http_addr)
        .await
        .map_err(|source| StartError::Listen { addr: cli.http_addr, source })?;
    let http_addr = listener
        .local_addr()
        .map_err(|source| StartError::Listen { addr: cli.http_addr, source })?;

    let node = Arc::new(NodeInfo::new(http_addr));
    db::nodes::register(&db, &node).await.map_err(StartError::Register)?;

    let leptos = LeptosOptions::builder()
        .output_name(bidline_app::OUTPUT_NAME)
        .site_root(cli.site_root.to_string_lossy().into_owned())
        .site_pkg_dir(crate::http::assets::pkg_dir(&cli.site_root))
        .site_addr(http_addr)
        .build();
    let routing = Routing::load(&db).await.map_err(StartError::Routing)?;
    let pinger = Pinger::new(cli.allow_private_targets).map_err(StartError::Pinger)?;
    routing.spawn_refresh(db.clone(), &tasks);
    start_webhooks(cli, &db, node.id, &tasks)?;
    if billing.enabled() {
        billing.gate.refresh(&db, grace).await.map_err(StartError::Calls)?;
    }
    billing.spawn(&db, node.id, &tasks);
    crate::invoicing::run::spawn(
        db.clone(),
        billing.api.clone(),
        billing.public_url.clone(),
        crate::invoicing::run::Delay(invoice_delay),
        &tasks,
    );
    let live = tokio::sync::broadcast::channel(LIVE_BACKLOG).0;
    let (dni, dni_writer) = start_dni(cli, &db, &routing, node.id, geo, &tasks).await?;
    let routes = Routes {
        routing: routing.clone(),
        pinger: pinger.clone(),
        live: live.clone(),
        leases: dni.book.clone(),
        billing: billing.gate.clone(),
        loopback_password: loopback::password(),
    };
    let (routing_for_demo, dni_book) = (routing.clone(), dni.book.clone());
    let sip = start_sip(cli, &db, &node, routes, &tasks).await?;
    let throttle = Arc::new(Throttle::default());
    let trusted_proxies = TrustedProxies::new(cli.trusted_proxies.clone());
    let postback_limits =
        crate::limits::Limits::new(cli.postback_requests_per_minute, trusted_proxies.clone());
    spawn_forgetting(throttle.clone(), postback_limits.clone(), &tasks);
    let sessions = session::Store::new(&db);
    sessions.spawn_cleanup(&tasks);
    let app = http::router(AppState {
        db: db.clone(),
        node: node.clone(),
        leptos,
        metrics,
        metrics_token: cli.metrics_token.as_deref().map(Arc::from),
        throttle,
        routing,
        sessions,
        secure_cookies: cli.secure_cookies,
        pinger,
        live,
        postback_limits: postback_limits.clone(),
        trusted_proxies,
        dni,
        billing,
        records: sip.records.clone(),
        line: sip.line.clone(),
    });

    tracing::info!(
        http_addr = %http_addr,
        sip_addr = %sip.edge.udp_addr(),
        sip_udp_receive_buffer = sip.edge.udp_receive_buffer().unwrap_or_default(),
        database = %database_url,
        node_id = %node.id,
        version = %node.version,
        "listening"
    );

    if let Some(settings) = demo {
        let stage = demo::Stage {
            db: db.clone(),
            routing: routing_for_demo,
            book: dni_book,
            line: sip.line.clone(),
            http: http_addr,
        };
        let sign_in = demo::start(stage, settings, &tasks).await?;
        println!(
            "Bidline demo: {} calls a minute to the organization {} ({}).\n\
             Sign in at http://{}/login as {} with the password {}\n\
             (a new password at every start; `bidline demo remove` deletes the demo organization).",
            settings.calls_per_minute,
            sign_in.org,
            sign_in.email,
            loopback::reachable(http_addr),
            sign_in.email,
            sign_in.password,
        );
    }

    serve_until_signalled(listener, app, signals, cli.shutdown_grace()).await;
    sip.stop().await;
    // The lease book's last holders are gone with the HTTP server and the router.
    if tokio::time::timeout(Duration::from_secs(5), dni_writer.done()).await.is_err() {
        tracing::warn!("DNI lease changes still queued at shutdown were not written");
    }
    // Then the background work (its last rounds may still need the database).
    tasks.stop().await;

    if let Err(error) = db::nodes::mark_stopped(&db, node.id, chrono::Utc::now()).await {
        tracing::warn!(%error, "could not record this node's stop");
    }
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// The SIP edge and what records its calls.
struct Sip {
    edge: Edge,
    /// Bidline's own phone line into the edge.
    line: Line,
    recording: tokio::task::JoinHandle<()>,
    flushed: crate::calls::writer::Flushed,
    /// What waits to be written of the calls' records.
    records: Arc<crate::db::batch::Backlog>,
}

impl Sip {
    /// Stops taking calls; calls still live are recorded as interrupted, and every record
    /// is written before this returns.
    async fn stop(self) {
        drop(self.edge);
        // Routing tasks still out finish within the auction's limit and let go.
        let wait = crate::routing::router::TREE_TIMEOUT + Duration::from_secs(2);
        if tokio::time::timeout(wait, self.recording).await.is_err() {
            tracing::warn!("calls still being routed at shutdown were not recorded");
        }
        self.flushed.done().await;
    }
}

/// What the call router reads, and where calls are shown live.
struct Routes {
    routing: Routing,
    pinger: Pinger,
    live: crate::calls::LiveFeed,
    leases: Arc<Book>,
    billing: Arc<crate::billing::Gate>,
    loopback_password: String,
}

/// Recovers what a stopped node left, then starts the SIP edge with the call router.
async fn start_sip(
    cli: &Cli,
    db: &Db,
    node: &NodeInfo,
    routes: Routes,
    tasks: &Tasks,
) -> Result<Sip, StartError> {
    let Routes { routing, pinger, live, leases, billing, loopback_password } = routes;
    let spool = match db.backend() {
        Backend::Postgres => {
            let writing = db.for_writer();
            let spool = Arc::new(Spool::open(&cli.records_spool).map_err(StartError::Spool)?);
            let replayed = writer::replay_spooled(&spool, &writing).await;
            if replayed > 0 {
                tracing::warn!(replayed, "wrote the call records an earlier run left in the spool");
            }
            export_spool(spool.clone(), tasks);
            tasks.spawn("records spool replay", writer::replay(spool.clone(), writing.clone()));
            Some(spool)
        }
        Backend::Sqlite => None,
    };
    let closed = recovery::close_orphans(db, node.id, chrono::Utc::now())
        .await
        .map_err(StartError::Calls)?;
    if closed > 0 {
        tracing::warn!(closed, "closed calls a stopped node left open (status interrupted)");
    }
    recovery::spawn_heartbeat(db.clone(), node.id, tasks);
    let (writer, flushed) = Writer::spawn(db, spool);
    let counters =
        Arc::new(Counters::load(db, node.id, writer.clone()).await.map_err(StartError::Calls)?);
    let snapshot = routing.clone();
    counters.keep_leases(
        move || {
            let targets = snapshot.current();
            let limited = targets.targets.values().filter(|t| counters::limited(&t.object));
            limited.map(|t| t.object.clone()).collect()
        },
        tasks,
    );
    let since = chrono::Utc::now() - RECENT_CALLERS;
    let recent = Arc::new(Recent::load_since(db, since).await.map_err(StartError::Calls)?);
    let (recorder, inbox) = Recorder::new();
    let router = CallRouter {
        routing,
        pinger,
        counters: counters.clone(),
        recent: recent.clone(),
        shield: Arc::default(),
        recorder,
        node_id: node.id,
        tree_timeout: crate::routing::router::TREE_TIMEOUT,
        leases,
        billing,
        allow_private: cli.allow_private_targets,
        headroom: writer.headroom(cli.record_limits()),
        loopback_password: loopback_password.as_str().into(),
    };
    let mut config = edge::Config::new(cli.sip_addr);
    config.advertise = cli.sip_advertise.clone();
    config.tcp.max_connections = cli.sip_max_connections as usize;
    config.tcp.per_address = cli.sip_max_connections_per_address as usize;
    config.tcp.idle = Duration::from_secs(cli.sip_idle_seconds);
    config.udp_receive_buffer = Some(cli.sip_udp_receive_buffer_kib as usize * 1024);
    let (edge, events) = Edge::start(config, router)
        .await
        .map_err(|source| StartError::Sip { addr: cli.sip_addr, source })?;
    export_edge_stats(edge.stats().clone(), tasks);
    let records = writer.backlog().clone();
    export_backlog(records.clone(), tasks);
    let recording = inbox.spawn(events, writer, live, counters, recent.clone());
    spawn_forgetting_callers(recent, tasks);
    let line = Line::new(loopback_password, edge.udp_addr());
    Ok(Sip { edge, line, recording, flushed, records })
}

/// Copies what the SIP edge refused for lack of room into `/metrics`, every second.
fn export_edge_stats(stats: Arc<edge::Stats>, tasks: &Tasks) {
    use std::sync::atomic::Ordering;
    metrics::describe_counter!(
        "bidline_sip_invites_overloaded_total",
        "New INVITEs answered 503 (Retry-After) because the SIP edge's queue was too full."
    );
    metrics::describe_counter!(
        "bidline_sip_messages_dropped_total",
        "SIP messages dropped because the SIP edge's queue was full."
    );
    every_second(tasks, stats, |stats| {
        metrics::counter!("bidline_sip_invites_overloaded_total")
            .absolute(stats.overloaded.load(Ordering::Relaxed));
        metrics::counter!("bidline_sip_messages_dropped_total")
            .absolute(stats.dropped.load(Ordering::Relaxed));
    });
}

/// Copies how many batches of call records wait in the spool into `/metrics`.
fn export_spool(spool: Arc<Spool>, tasks: &Tasks) {
    metrics::describe_gauge!(
        "bidline_call_records_spooled_batches",
        "Batches of call records kept on disk while the database cannot be reached."
    );
    every_second(tasks, spool, |spool| {
        metrics::gauge!("bidline_call_records_spooled_batches").set(spool.batches() as f64);
    });
}

/// Copies how far behind call records are into `/metrics`, every second.
fn export_backlog(backlog: Arc<crate::db::batch::Backlog>, tasks: &Tasks) {
    metrics::describe_gauge!(
        "bidline_call_records_lag_seconds",
        metrics::Unit::Seconds,
        "How long the oldest change to call records not yet written has waited."
    );
    metrics::describe_gauge!(
        "bidline_call_records_queued",
        "Changes to call records waiting to be written."
    );
    metrics::describe_gauge!(
        "bidline_call_records_queued_bytes",
        metrics::Unit::Bytes,
        "About how much memory the changes waiting to be written hold."
    );
    metrics::describe_counter!(
        "bidline_call_records_written_total",
        "Changes to call records written since the start."
    );
    metrics::describe_counter!(
        crate::routing::router::REFUSED_RECORDS_BEHIND,
        "New INVITEs answered 503 (Retry-After) because call records were too far behind."
    );
    every_second(tasks, backlog, |backlog| {
        metrics::gauge!("bidline_call_records_lag_seconds").set(backlog.lag().as_secs_f64());
        metrics::gauge!("bidline_call_records_queued").set(backlog.changes() as f64);
        metrics::gauge!("bidline_call_records_queued_bytes").set(backlog.bytes() as f64);
        metrics::counter!("bidline_call_records_written_total").absolute(backlog.written());
    });
}

/// Runs `export` on `what` every second for as long as something else holds it.
fn every_second<T: Send + Sync + 'static>(
    tasks: &Tasks,
    what: Arc<T>,
    export: impl Fn(&T) + Send + 'static,
) {
    let weak = Arc::downgrade(&what);
    drop(what);
    tasks.spawn("metrics export", async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            let Some(what) = weak.upgrade() else { break };
            export(&what);
        }
    });
}

/// The lease book with the leases that outlived the last stop, its writer, and the
/// tasks that end expired leases and forget quiet visitors' rate limits.
async fn start_dni(
    cli: &Cli,
    db: &Db,
    routing: &Routing,
    node: uuid::Uuid,
    geo: Option<dni::geo::Geo>,
    tasks: &Tasks,
) -> Result<(Dni, crate::db::batch::Flushed), StartError> {
    let now = chrono::Utc::now();
    let grace = chrono::Duration::minutes(cli.dni_grace_minutes.into());
    let leases = dni::store::load(db, now - grace).await.map_err(StartError::Calls)?;
    let (writer, written) = dni::store::Writer::spawn(db.clone(), node);
    let cap = std::num::NonZeroUsize::new(cli.dni_leases_per_address);
    let book = Arc::new(Book::new(Box::new(writer), grace).with_client_cap(cap));
    book.restore(&routing.current(), leases, now);
    if db.backend() == Backend::Postgres {
        dni::share::spawn(db.clone(), node, routing.clone(), Arc::downgrade(&book), tasks);
    }
    let service = Dni::new(
        book.clone(),
        cli.dni_requests_per_minute,
        TrustedProxies::new(cli.trusted_proxies.clone()),
        cli.dni_keep_ip,
        geo,
    );
    let weak = Arc::downgrade(&book);
    let limits = service.limits.clone();
    tasks.spawn("DNI sweep", async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let mut ticks = 0u64;
        loop {
            tick.tick().await;
            let Some(book) = weak.upgrade() else { break };
            book.sweep(chrono::Utc::now());
            ticks += 1;
            if ticks.is_multiple_of(60) {
                limits.forget_idle();
            }
        }
    });
    let retention = chrono::Duration::days(cli.dni_lease_retention_days.into());
    spawn_lease_pruning(db.clone(), retention, tasks);
    Ok((service, written))
}

/// Deletes ended DNI leases older than `retention`, at start and then hourly.
fn spawn_lease_pruning(db: Db, retention: chrono::Duration, tasks: &Tasks) {
    tasks.spawn("DNI lease pruning", async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            match dni::store::prune(&db, chrono::Utc::now() - retention).await {
                Ok(0) => {}
                Ok(deleted) => tracing::info!(deleted, "pruned ended DNI leases"),
                Err(error) => tracing::warn!(%error, "could not prune ended DNI leases"),
            }
        }
    });
}

/// Turns the outbox into deliveries and sends them.
fn start_webhooks(cli: &Cli, db: &Db, node: uuid::Uuid, tasks: &Tasks) -> Result<(), StartError> {
    webhooks::dispatch::spawn(db.clone(), tasks);
    let settings = webhooks::deliver::Settings {
        retry_base: Duration::from_millis(cli.webhook_retry_base_ms),
        give_up_after: Duration::from_secs(cli.webhook_give_up_seconds),
        timeout: Duration::from_millis(cli.webhook_timeout_ms),
        allow_private: cli.allow_private_targets,
    };
    webhooks::deliver::spawn(db.clone(), node, settings, tasks).map_err(StartError::Webhooks)
}

/// Changes to calls a slow live view may fall behind by before it skips some.
const LIVE_BACKLOG: usize = 1024;

/// How far back duplicate screening and repeat-caller routing remember callers.
const RECENT_CALLERS: chrono::Duration = chrono::Duration::days(30);

fn spawn_forgetting_callers(recent: Arc<Recent>, tasks: &Tasks) {
    tasks.spawn("forgetting callers", async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            recent.forget_before(chrono::Utc::now() - RECENT_CALLERS);
        }
    });
}

/// The key from --secret-key, else from the key file (made on the first start).
fn secret_key(cli: &Cli) -> Result<SecretKey, StartError> {
    if let Some(text) = &cli.secret_key {
        return Ok(SecretKey::parse(text)?);
    }
    let (key, created) = SecretKey::from_file(&cli.secret_key_file)?;
    if created {
        tracing::warn!(
            path = %cli.secret_key_file.display(),
            "created a new secret key for secrets at rest: back it up, and give every node sharing this database the same key (BIDLINE_SECRET_KEY)"
        );
    }
    Ok(key)
}

/// Serves until SIGINT/SIGTERM, then lets requests in flight finish for up to `grace`.
async fn serve_until_signalled(
    listener: TcpListener,
    app: axum::Router,
    signals: Signals,
    grace: Duration,
) {
    let (signalled_tx, signalled_rx) = tokio::sync::oneshot::channel();
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let server = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            signals.received().await;
            let _ = signalled_tx.send(());
        })
        .into_future();
    tokio::pin!(server);

    tokio::select! {
        result = &mut server => {
            if let Err(error) = result {
                tracing::error!(%error, "the HTTP server stopped");
            }
        }
        _ = signalled_rx => {
            match tokio::time::timeout(grace, server).await {
                Ok(Ok(())) => tracing::info!("all requests finished"),
                Ok(Err(error)) => tracing::error!(%error, "the HTTP server stopped"),
                Err(_) => tracing::warn!(
                    grace_seconds = grace.as_secs(),
                    "requests still in flight after the grace period were cut off"
                ),
            }
        }
    }
}

/// Lets the sign-in and postback limits forget addresses and emails that have been quiet
/// a while.
fn spawn_forgetting(throttle: Arc<Throttle>, postbacks: crate::limits::Limits, tasks: &Tasks) {
    tasks.spawn("forgetting limits", async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            throttle.forget_idle();
            postbacks.forget_idle();
        }
    });
}
