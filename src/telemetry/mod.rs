//! Logging, request ids, metrics and the bridge from async handlers to blocking diesel work.
//! The bottom of the crate: it imports nothing of ours.

pub mod metrics;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

/// `CHANNELDESK_LOG_FORMAT`: pretty (default) or json.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

tokio::task_local! {
    static REQUEST_ID: String;
}

/// Installs the global subscriber; `RUST_LOG` overrides the default `info` filter.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter);
    let result = match format {
        LogFormat::Json => registry
            .with(tracing_subscriber::fmt::layer().json().flatten_event(true).with_current_span(true))
            .try_init(),
        LogFormat::Pretty => registry.with(tracing_subscriber::fmt::layer()).try_init(),
    };
    // A second init (tests, embedding) keeps the first subscriber.
    let _ = result;
}

/// Runs `fut` with `id` as the current request id (read by error rendering and logs).
pub async fn with_request_id<F: std::future::Future>(id: String, fut: F) -> F::Output {
    REQUEST_ID.scope(id, fut).await
}

pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(|id| id.clone()).ok()
}

/// Runs blocking work (diesel) on the blocking pool inside the caller's span, so its logs keep
/// the request id. Never `block_in_place` on an actix worker: it would stall every connection on it.
pub async fn run_blocking<T, F>(f: F) -> Result<T, tokio::task::JoinError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let span = tracing::Span::current();
    // Task-locals stay on their task: carry the request id over so audit rows can record it.
    let request_id = current_request_id();
    actix_web::rt::task::spawn_blocking(move || {
        span.in_scope(|| match request_id {
            Some(id) => REQUEST_ID.sync_scope(id, f),
            None => f(),
        })
    })
    .await
}
