//! Every error the service itself produces is problem+json — including the answers actix's HTTP/1
//! dispatcher writes before any handler runs (oversized heads, framing it cannot parse), which only
//! a real server on a socket shows.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::both;
use crate::helpers::TestApp;

/// Starts the real server on port 0 over the test's database; returns its port.
fn serve(app: &TestApp) -> u16 {
    let config = channeldesk::config::Config { bind: "127.0.0.1:0".into(), ..app.config.clone() };
    let server = channeldesk::Application::build_with_db(config, app.db.clone()).expect("server");
    let port = server.port();
    actix_web::rt::spawn(server.run_until_stopped());
    port
}

/// Sends raw bytes, returns (status, lower-cased head, body) of the answer.
async fn raw(port: u16, request: Vec<u8>) -> (u16, String, String) {
    actix_web::rt::task::spawn_blocking(move || {
        let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
        // The server may answer and close before it has read everything we send.
        let _ = s.write_all(&request);
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        let text = String::from_utf8_lossy(&out).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        (status, head.to_ascii_lowercase(), body.to_string())
    })
    .await
    .expect("raw request")
}

fn assert_problem(answer: &(u16, String, String), status: u16, code: &str) {
    let (got, head, body) = answer;
    assert_eq!(*got, status, "{head}\n{body}");
    assert!(head.contains("content-type: application/problem+json"), "{head}");
    let json: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body:?}"));
    assert_eq!(json["status"], status);
    assert_eq!(json["code"], code);
    assert!(json["request_id"].is_string());
}

both!(answers_made_before_routing_are_problems_too, |app: TestApp| async move {
    let port = serve(&app);
    let big = format!("GET /api/v1/partners HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", "a".repeat(200 * 1024));
    assert_problem(&raw(port, big.into_bytes()).await, 431, "headers_too_large");
    let many: String = (0..120).map(|i| format!("X-H{i}: v\r\n")).collect();
    let many = format!("GET /healthz HTTP/1.1\r\nHost: x\r\n{many}\r\n");
    assert_problem(&raw(port, many.into_bytes()).await, 431, "headers_too_large");
    let garbage = b"GET /healthz HTTP/1.1\r\nHost x\r\nBad Header Line\r\n\r\n".to_vec();
    assert_problem(&raw(port, garbage).await, 400, "malformed_body");
    let chunked = b"POST /api/v1/partners HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nzz\r\n".to_vec();
    let answer = raw(port, chunked).await;
    assert!(answer.0 == 400 || answer.0 == 401, "{answer:?}");
    assert!(answer.1.contains("application/problem+json"), "{answer:?}");
    // Routes outside our handlers: the Swagger UI's own misses and actix's routing.
    for path in ["/swagger-ui/no-such-file.js", "/swagger-ui/../../etc/passwd", "/api-docs/nothing"] {
        let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let answer = raw(port, req.into_bytes()).await;
        assert_eq!(answer.0, 404, "{path}: {answer:?}");
        assert!(answer.1.contains("application/problem+json"), "{path}: {answer:?}");
    }
    // A good request on the same server is untouched.
    let ok = raw(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec()).await;
    assert_eq!(ok.0, 200, "{ok:?}");
    assert!(ok.1.contains("content-type: application/json"));
});
