//! The composition root: the only file that knows every room. It registers their routes (for
//! serving and for the OpenAPI document alike), builds the state, starts the background jobs and
//! the delivery worker, and binds the server. Nothing imports it but `main.rs` and the tests.

use std::net::TcpListener;

use actix_service::{fn_service, map_config, IntoServiceFactory, ServiceFactoryExt};
use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::{web, App};
use utoipa_actix_web::{scope, AppExt};
use utoipa_swagger_ui::SwaggerUi;

use crate::config::Config;
use crate::db::Db;
use crate::state::{AppState, RouteTable};

/// The state every worker shares, with the route table of the documented API.
pub fn state(db: Db, config: Config) -> web::Data<AppState> {
    AppState::new(db, config, RouteTable::from_spec(spec()))
}

/// The complete OpenAPI document. Built once: it is the same for every worker and request.
pub fn spec() -> &'static utoipa::openapi::OpenApi {
    static SPEC: std::sync::OnceLock<utoipa::openapi::OpenApi> = std::sync::OnceLock::new();
    SPEC.get_or_init(|| {
        let (_, doc) = routes_app(<crate::openapi::ApiDoc as utoipa::OpenApi>::openapi());
        crate::openapi::complete(doc)
    })
}

pub fn spec_json() -> String {
    spec().to_pretty_json().unwrap_or_default()
}

/// Every documented route, registered once for both serving and the OpenAPI document.
fn api_v1(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.configure(crate::partners::routes)
        .configure(crate::key_accounts::routes)
        .configure(crate::performance::routes)
        .configure(crate::targets::routes)
        .configure(crate::scorecards::routes)
        .configure(crate::incentives::routes)
        .configure(crate::deals::routes)
        .configure(crate::advice::routes)
        .configure(crate::api_keys::routes)
        .configure(crate::audit::api::routes)
        .configure(crate::bulletins::routes)
        .configure(crate::meetings::routes)
        .configure(crate::contracts::routes)
        .configure(crate::competitors::routes)
        .configure(crate::conflicts::routes)
        .configure(crate::recruitment::routes)
        .configure(crate::notify::routes)
        .configure(crate::bots::routes);
}

/// The routed app and the OpenAPI paths collected from its handlers.
pub fn routes_app(
    doc: utoipa::openapi::OpenApi,
) -> (
    App<
        impl ServiceFactory<
            ServiceRequest,
            Config = (),
            Response = ServiceResponse<impl MessageBody>,
            Error = actix_web::Error,
            InitError = (),
        >,
    >,
    utoipa::openapi::OpenApi,
) {
    App::new()
        .into_utoipa_app()
        .openapi(doc)
        .configure(crate::ops::routes)
        .configure(crate::meetings::public_routes)
        .service(scope::scope("/api/v1").configure(api_v1))
        .split_for_parts()
}

/// The whole application for one worker.
pub fn mk_app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let (app, _) = routes_app(utoipa::openapi::OpenApi::default());
    app.app_data(state)
        .service(web::redirect("/swagger-ui", "/swagger-ui/"))
        .service(SwaggerUi::new("/swagger-ui/{_:.*}").url("/api-docs/openapi.json", spec().clone()))
        .default_service(web::to(crate::http::fallback))
        .wrap(from_fn(crate::http::idempotency::middleware))
        .wrap(from_fn(crate::http::request_context))
}

/// The periodic jobs `serve` runs (each resource that needs one adds it here).
fn background_jobs(config: &Config) -> Vec<crate::jobs::Job> {
    vec![
        crate::meetings::reminders::job(&config.meeting_reminder_leads),
        crate::contracts::risks::scan::job(config),
        crate::http::idempotency::SWEEP_JOB,
        crate::targets::missed::JOB,
        crate::conflicts::scan::JOB,
        crate::deals::expiry::JOB,
    ]
}

/// One-off data upgrades, in order (see `db::upgrades`): run after the schema migrations, with
/// the settled secret key.
pub fn data_upgrades(secret_key: Option<&crate::secrets::SecretKey>) -> Vec<crate::db::upgrades::Upgrade> {
    use crate::db::upgrades::Upgrade;
    fn comparison_keys(conn: &mut crate::db::DbConn) -> Result<usize, crate::error::ApiError> {
        Ok(crate::partners::store::rekey_names(conn)? + crate::key_accounts::store::rekey_names(conn)?)
    }
    let sealer = secret_key.map(crate::secrets::SecretKey::sealer);
    vec![
        Upgrade::new("comparison_keys_v1", comparison_keys),
        Upgrade::new("contract_number_keys_v1", crate::contracts::store::rekey_numbers),
        Upgrade::new("sealed_secrets_v1", move |conn| crate::notify::secrets::seal_plaintext(conn, sealer.as_ref())),
    ]
}

/// Applies the schema migrations, settles the secret key into `config` (see
/// `notify::secrets::settle_key`) and runs the data upgrades (`serve` and `migrate` both do).
pub fn migrate(db: &Db, config: &mut Config) -> Result<usize, String> {
    let mut conn = db.conn().map_err(|e| e.to_string())?;
    let applied = crate::db::run_migrations(&mut conn)?;
    drop(conn);
    config.notify.secret_key = crate::notify::secrets::settle_key(db, &config.notify, &config.database_url)?;
    crate::db::upgrades::run(db, &data_upgrades(config.notify.secret_key.as_ref()))?;
    Ok(applied)
}

/// A bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Connects to the database, applies migrations and binds (port 0 picks a free port).
    pub fn build(mut config: Config) -> Result<Self, String> {
        let db = Db::connect(&config.database_url, config.pool_size)?;
        migrate(&db, &mut config)?;
        Self::build_with_db(config, db)
    }

    pub fn build_with_db(config: Config, db: Db) -> Result<Self, String> {
        crate::jobs::spawn(db.clone(), background_jobs(&config));
        crate::notify::worker::spawn(db.clone(), &config.notify)?;
        let listener = TcpListener::bind(&config.bind).map_err(|e| format!("cannot bind {}: {e}", config.bind))?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        let workers = config.workers;
        let state = state(db, config);
        let mut builder = actix_server::Server::build().shutdown_timeout(30);
        if let Some(n) = workers {
            builder = builder.workers(n);
        }
        let shutdown = builder.graceful_shutdown_signal();
        // What actix-web's HttpServer does, with one difference: each connection goes through
        // `http::transport::ProblemIo`, so the dispatcher's own error answers are problem+json too.
        let server = builder
            .listen("channeldesk", listener, move || {
                let shutdown = shutdown.clone();
                let app = mk_app(state.clone()).into_factory().map_err(|err| err.error_response());
                let http = actix_http::HttpService::build()
                    .graceful_shutdown_signal(move || {
                        let signal = shutdown.clone();
                        async move { signal.notified().await }
                    })
                    .finish(map_config(app, |_| actix_web::dev::AppConfig::default()));
                fn_service(|io: actix_web::rt::net::TcpStream| async move {
                    let _ = io.set_nodelay(true);
                    let peer = io.peer_addr().ok();
                    Ok::<_, actix_http::error::DispatchError>((
                        crate::http::transport::ProblemIo::new(io),
                        actix_http::Protocol::Http1,
                        peer,
                    ))
                })
                .and_then(http)
            })
            .map_err(|e| e.to_string())?
            .run();
        Ok(Self { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Runs until SIGINT/SIGTERM, then finishes in-flight requests (graceful shutdown).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
