// Embedded migrations are read by a proc macro, which cargo does not track: rebuild when they change.
//
// The API tests' Postgres variants are compiled as ignored unless CHANNELDESK_TEST_PG names a
// server, so a run without one reports them as ignored instead of passing them untested.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-env-changed=CHANNELDESK_TEST_PG");
    println!("cargo::rustc-check-cfg=cfg(channeldesk_test_pg)");
    if std::env::var("CHANNELDESK_TEST_PG").is_ok_and(|v| !v.is_empty()) {
        println!("cargo:rustc-cfg=channeldesk_test_pg");
    }
}
