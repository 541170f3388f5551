//! What every request can reach: the database, the settings, the metrics, the verified-key cache
//! and the table of documented routes. The state knows no handlers: `app.rs` builds the route
//! table from the OpenAPI document and hands it in.

use actix_web::dev::ResourceDef;
use actix_web::http::Method;
use actix_web::web;

use crate::access::AuthCache;
use crate::config::Config;
use crate::db::Db;
use crate::telemetry::metrics::Metrics;

pub struct AppState {
    pub db: Db,
    pub config: Config,
    pub metrics: Metrics,
    pub routes: RouteTable,
    pub auth_cache: AuthCache,
}

impl AppState {
    pub fn new(db: Db, config: Config, routes: RouteTable) -> web::Data<Self> {
        let auth_cache = AuthCache::new(std::time::Duration::from_secs(config.auth_cache_secs));
        web::Data::new(AppState { db, config, metrics: Metrics::default(), routes, auth_cache })
    }
}

/// The methods each documented path answers, read from the OpenAPI spec, so that a wrong method
/// on a known path is a 405 with `Allow` rather than actix's 404.
pub struct RouteTable {
    routes: Vec<(ResourceDef, Vec<Method>)>,
}

impl RouteTable {
    pub fn from_spec(spec: &utoipa::openapi::OpenApi) -> Self {
        let routes = spec
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let mut methods: Vec<Method> = Vec::new();
                let ops = [
                    (Method::GET, item.get.is_some()),
                    (Method::POST, item.post.is_some()),
                    (Method::PUT, item.put.is_some()),
                    (Method::PATCH, item.patch.is_some()),
                    (Method::DELETE, item.delete.is_some()),
                ];
                for (m, present) in ops {
                    if present {
                        methods.push(m);
                    }
                }
                if methods.contains(&Method::GET) {
                    methods.push(Method::HEAD);
                }
                (ResourceDef::new(path.as_str()), methods)
            })
            .collect();
        Self { routes }
    }

    pub fn allowed(&self, path: &str) -> Option<&[Method]> {
        self.routes.iter().find(|(def, _)| def.is_match(path)).map(|(_, m)| m.as_slice())
    }
}
