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
    /// Paths whose literal segment a sibling's `{id}` also matches (`/cost-records/import` and
    /// `/cost-records/{id}`): actix would hand a method the literal path lacks to the sibling's
    /// handler, so these are checked before routing (see [`RouteTable::shadowed_refusal`]).
    shadowed: Vec<(ResourceDef, Vec<Method>)>,
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
            .collect::<Vec<(ResourceDef, Vec<Method>)>>();
        let shadowed = routes
            .iter()
            .filter(|(def, _)| {
                let sample = sample_path(def.pattern().unwrap_or(""));
                routes.iter().any(|(other, _)| other.pattern() != def.pattern() && other.is_match(&sample))
            })
            .cloned()
            .collect();
        Self { routes, shadowed }
    }

    /// The methods of the documented path `path` falls under; a literal path wins over a
    /// sibling whose `{id}` matches it too.
    pub fn allowed(&self, path: &str) -> Option<&[Method]> {
        self.shadowed.iter().chain(self.routes.iter()).find(|(def, _)| def.is_match(path)).map(|(_, m)| m.as_slice())
    }

    /// The methods to put in a 405's `Allow` when `path` is a shadowed literal path that does not
    /// answer `method`; `None` for every other request (it is routed as usual).
    pub fn shadowed_refusal(&self, path: &str, method: &Method) -> Option<&[Method]> {
        self.shadowed
            .iter()
            .find(|(def, _)| def.is_match(path))
            .filter(|(_, methods)| !methods.contains(method))
            .map(|(_, m)| m.as_slice())
    }
}

/// A concrete path a pattern matches: every `{param}` segment replaced by a value.
fn sample_path(pattern: &str) -> String {
    pattern
        .split('/')
        .map(|segment| if segment.starts_with('{') { "0192f0c4-3b9e-7c1a-8f00-000000000000" } else { segment })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem, PathsBuilder};
    use utoipa::openapi::OpenApiBuilder;

    #[test]
    fn a_literal_path_is_not_handed_to_its_id_sibling() {
        let op = || OperationBuilder::new().build();
        let paths = PathsBuilder::new()
            .path("/api/v1/things/import", PathItem::new(HttpMethod::Post, op()))
            .path("/api/v1/things/{id}", PathItem::new(HttpMethod::Patch, op()))
            .path("/api/v1/things", PathItem::new(HttpMethod::Get, op()))
            .build();
        let table = RouteTable::from_spec(&OpenApiBuilder::new().paths(paths).build());
        assert_eq!(table.shadowed_refusal("/api/v1/things/import", &Method::PATCH), Some(&[Method::POST][..]));
        assert_eq!(table.shadowed_refusal("/api/v1/things/import", &Method::POST), None);
        assert_eq!(table.shadowed_refusal("/api/v1/things/0192f0c4", &Method::PATCH), None, "ids route as usual");
        assert_eq!(table.shadowed_refusal("/api/v1/things", &Method::DELETE), None, "not shadowed: actix's fallback");
        assert_eq!(table.allowed("/api/v1/things/import"), Some(&[Method::POST][..]));
    }
}
