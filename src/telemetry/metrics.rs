//! Prometheus text metrics: request counts and latency histograms by route and status, plus the
//! database pool gauges.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

#[derive(Default)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

#[derive(Default)]
pub struct Metrics {
    // Keyed by (method, route pattern, status). Route patterns, not raw paths, keep the label set
    // bounded whatever ids clients send.
    series: Mutex<BTreeMap<(String, String, u16), Series>>,
}

impl Metrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut series = self.series.lock().unwrap_or_else(|p| p.into_inner());
        let s = series.entry((method.to_string(), route.to_string(), status)).or_default();
        s.count += 1;
        s.sum += seconds;
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                s.buckets[i] += 1;
            }
        }
    }

    pub fn render(&self, pool: r2d2::State, pool_max: u32, db_waiting: usize) -> String {
        let mut out = String::new();
        let series = self.series.lock().unwrap_or_else(|p| p.into_inner());
        let _ = writeln!(out, "# HELP channeldesk_http_requests_total HTTP requests by route and status.");
        let _ = writeln!(out, "# TYPE channeldesk_http_requests_total counter");
        for ((method, route, status), s) in series.iter() {
            let _ = writeln!(
                out,
                "channeldesk_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {}",
                escape(route),
                s.count
            );
        }
        let _ = writeln!(out, "# HELP channeldesk_http_request_duration_seconds HTTP request latency.");
        let _ = writeln!(out, "# TYPE channeldesk_http_request_duration_seconds histogram");
        for ((method, route, status), s) in series.iter() {
            let labels = format!("method=\"{method}\",route=\"{}\",status=\"{status}\"", escape(route));
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "channeldesk_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {}",
                    s.buckets[i]
                );
            }
            let _ =
                writeln!(out, "channeldesk_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", s.count);
            let _ = writeln!(out, "channeldesk_http_request_duration_seconds_sum{{{labels}}} {}", s.sum);
            let _ = writeln!(out, "channeldesk_http_request_duration_seconds_count{{{labels}}} {}", s.count);
        }
        drop(series);
        let _ = writeln!(out, "# HELP channeldesk_db_pool_connections Open database connections.");
        let _ = writeln!(out, "# TYPE channeldesk_db_pool_connections gauge");
        let _ = writeln!(out, "channeldesk_db_pool_connections {}", pool.connections);
        let _ = writeln!(out, "# HELP channeldesk_db_pool_idle_connections Idle database connections.");
        let _ = writeln!(out, "# TYPE channeldesk_db_pool_idle_connections gauge");
        let _ = writeln!(out, "channeldesk_db_pool_idle_connections {}", pool.idle_connections);
        let _ = writeln!(out, "# HELP channeldesk_db_pool_max_connections Connections the pool may open (on SQLite: the configured size plus the writer's).");
        let _ = writeln!(out, "# TYPE channeldesk_db_pool_max_connections gauge");
        let _ = writeln!(out, "channeldesk_db_pool_max_connections {pool_max}");
        let _ = writeln!(
            out,
            "# HELP channeldesk_db_waiting_requests Requests waiting for a turn at the database (all connections busy)."
        );
        let _ = writeln!(out, "# TYPE channeldesk_db_waiting_requests gauge");
        let _ = writeln!(out, "channeldesk_db_waiting_requests {db_waiting}");
        out
    }
}

fn escape(label: &str) -> String {
    label.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = Metrics::default();
        m.observe("GET", "/api/v1/partners/{id}", 200, 0.003);
        m.observe("GET", "/api/v1/partners/{id}", 200, 0.2);
        let text = m.render(r2d2_state(), 4, 3);
        assert!(text.contains(
            "channeldesk_http_requests_total{method=\"GET\",route=\"/api/v1/partners/{id}\",status=\"200\"} 2"
        ));
        assert!(text.contains("le=\"0.005\"} 1"));
        assert!(text.contains("le=\"0.25\"} 2"));
        assert!(text.contains("channeldesk_db_pool_max_connections 4"));
        assert!(text.contains("channeldesk_db_waiting_requests 3"));
    }

    fn r2d2_state() -> r2d2::State {
        // r2d2::State has private fields; a real pool over a no-op manager provides one.
        #[derive(Debug)]
        struct Noop;
        impl r2d2::ManageConnection for Noop {
            type Connection = ();
            type Error = std::io::Error;
            fn connect(&self) -> Result<(), std::io::Error> {
                Ok(())
            }
            fn is_valid(&self, _: &mut ()) -> Result<(), std::io::Error> {
                Ok(())
            }
            fn has_broken(&self, _: &mut ()) -> bool {
                false
            }
        }
        r2d2::Pool::builder().max_size(1).build(Noop).expect("pool").state()
    }
}
