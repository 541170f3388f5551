//! `channeldesk import …`: the library function the binary calls, on both backends. Chunks of one
//! transaction each, a bad chunk that leaves the earlier ones written and says how to resume,
//! `--skip`, `--dry-run`, upsert, and the partners file.

use channeldesk::access::Actor;
use channeldesk::performance::import::{ImportMode, ImportResult, Kind};
use channeldesk::performance::import_file::{import_file, FileFailure, FileOptions, FileReport, Progress};
use serde_json::Value;

use crate::both;
use crate::helpers::TestApp;
use crate::performance::pid;

fn options(kind: Kind, chunk_rows: usize) -> FileOptions {
    FileOptions { chunk_rows, ..FileOptions::new(kind) }
}

fn run(app: &TestApp, csv: &str, options: &FileOptions) -> Result<FileReport, FileFailure> {
    import_file(&app.db, &Actor::system("test-cli"), csv.as_bytes(), options, &mut |_| {})
}

fn at(failure: &FileFailure) -> Vec<(u64, String)> {
    failure.errors.iter().map(|e| (e.row.unwrap_or(u64::MAX), e.field.clone())).collect()
}

async fn records(app: &TestApp) -> Vec<Value> {
    app.get("/api/v1/performance-records?limit=100").send().await.items().clone()
}

fn imported_events(app: &TestApp) -> usize {
    app.event_types().into_iter().filter(|t| t == "performance.imported").count()
}

async fn named(app: &TestApp, name: &str) -> Value {
    let all = app.get("/api/v1/partners?limit=100").send().await;
    all.items().iter().find(|p| p["name"] == name).cloned().unwrap_or_else(|| panic!("no partner {name}"))
}

/// Five rows of two partners, revenue in yuan.
fn five_rows(a: &str, b: &str) -> String {
    format!(
        "\u{feff}partner_id,period,revenue,units\n\
         {a},2026-01,100.5,1\n\
         {a},2026-02,200,2\n\
         {b},2026-01,0.05,3\n\
         {b},2026-02,300,4\n\
         {a},2026-03,400,5\n"
    )
}

both!(a_good_file_imports_chunk_by_chunk, |app: TestApp| async move {
    let (a, b) = (pid(&app.partner("华东星辰").await), pid(&app.partner("华南渠道").await));
    let mut seen = Vec::new();
    let done = import_file(
        &app.db,
        &Actor::system("test-cli"),
        five_rows(&a, &b).as_bytes(),
        &options(Kind::Performance, 2),
        &mut |p: Progress| seen.push(p.rows),
    )
    .unwrap();
    assert_eq!(done, FileReport { rows: 5, skipped: 0, chunks: 3, result: ImportResult { created: 5, updated: 0 } });
    assert_eq!(seen, [2, 4, 5], "progress after every chunk");
    let all = records(&app).await;
    assert_eq!(all.len(), 5);
    let first = all.iter().find(|r| r["partner_id"] == a.as_str() && r["period"] == "2026-01").unwrap();
    assert_eq!(first["revenue_minor"], 10050, "yuan with decimals become fen");
    assert_eq!(imported_events(&app), 3, "one performance.imported per committed chunk");
    let audit = app.get("/api/v1/audit-events?resource_type=performance_record").send().await;
    assert_eq!(audit.items().len(), 3, "one audit record per chunk");

    // Costs in yuan, the same way.
    let costs = format!("partner_id,period,category,amount\n{a},2026-01,rebate,12.30\n{b},2026-01,training,1\n");
    let done = run(&app, &costs, &options(Kind::Costs, 5000)).unwrap();
    assert_eq!(done.result, ImportResult { created: 2, updated: 0 });
    let listed = app.get(&format!("/api/v1/cost-records?partner_id={a}")).send().await;
    assert_eq!(listed.items()[0]["amount_minor"], 1230);
});

both!(a_dry_run_checks_every_chunk_and_writes_nothing, |app: TestApp| async move {
    let (a, b) = (pid(&app.partner("华东星辰").await), pid(&app.partner("华南渠道").await));
    let dry = FileOptions { dry_run: true, ..options(Kind::Performance, 2) };
    let done = run(&app, &five_rows(&a, &b), &dry).unwrap();
    assert_eq!(done.result, ImportResult { created: 5, updated: 0 }, "what it would write");
    let bad = format!(
        "partner_id,period,revenue,units\n{a},2026-01,1,1\n{a},2026-02,1.234,1\n{b},2026-13,1,1\n{b},2026-02,1,x\n"
    );
    let failure = run(&app, &bad, &dry).unwrap_err();
    assert_eq!(at(&failure), [(2, "revenue".into()), (3, "period".into()), (4, "units".into())]);
    assert_eq!((failure.error_count, failure.resume_skip), (3, None));
    assert!(records(&app).await.is_empty(), "a dry run writes nothing");
    assert_eq!(imported_events(&app), 0);
    let header = run(&app, "partner_id,profit\n", &dry).unwrap_err();
    assert_eq!(at(&header), [(0, "profit".into())]);
});

both!(a_bad_chunk_stops_the_import_and_skip_resumes_it, |app: TestApp| async move {
    let (a, b) = (pid(&app.partner("华东星辰").await), pid(&app.partner("华南渠道").await));
    let bad = format!(
        "partner_id,period,revenue,units\n\
         {a},2026-01,1,1\n\
         {a},2026-02,2,1\n\
         {b},2026-13,3,1\n\
         {b},2026-02,4,1\n\
         {b},2026-03,5,1\n"
    );
    let failure = run(&app, &bad, &options(Kind::Performance, 2)).unwrap_err();
    assert_eq!(at(&failure), [(3, "period".into())], "the bad row, numbered as in the file");
    assert_eq!(failure.resume_skip, Some(2), "resume after the two rows written");
    assert_eq!((failure.done.rows, failure.done.chunks, failure.done.result.created), (2, 1, 2));
    assert_eq!(records(&app).await.len(), 2, "chunk 1 stays written, chunk 2 is rolled back");
    assert_eq!(imported_events(&app), 1);

    let fixed = bad.replace("2026-13", "2026-01");
    let resumed = FileOptions { skip: 2, ..options(Kind::Performance, 2) };
    let done = run(&app, &fixed, &resumed).unwrap();
    assert_eq!((done.skipped, done.rows, done.result.created), (2, 3, 3));
    assert_eq!(records(&app).await.len(), 5);

    // Running the whole file again in insert mode: every row is already there.
    let again = run(&app, &fixed, &options(Kind::Performance, 10)).unwrap_err();
    assert_eq!(again.errors.len(), 5);
    assert!(again.errors.iter().all(|e| e.field == "period" && e.message.contains("upsert")), "{:?}", again.errors);
});

both!(upsert_replaces_the_records_of_the_file, |app: TestApp| async move {
    let (a, b) = (pid(&app.partner("华东星辰").await), pid(&app.partner("华南渠道").await));
    run(&app, &five_rows(&a, &b), &options(Kind::Performance, 2)).unwrap();
    let changed = format!("partner_id,period,revenue_minor,units\n{a},2026-01,999,9\n{b},2026-04,1,1\n");
    let upsert = FileOptions { mode: ImportMode::Upsert, ..options(Kind::Performance, 1) };
    let done = run(&app, &changed, &upsert).unwrap();
    assert_eq!(done.result, ImportResult { created: 1, updated: 1 });
    let all = records(&app).await;
    assert_eq!(all.len(), 6);
    let first = all.iter().find(|r| r["partner_id"] == a.as_str() && r["period"] == "2026-01").unwrap();
    assert_eq!(
        (first["revenue_minor"].as_i64(), first["units"].as_i64(), first["version"].as_i64()),
        (Some(999), Some(9), Some(2))
    );
});

both!(partners_import_from_a_flat_file, |app: TestApp| async move {
    let csv = "name,channel_type,kind,tier,status,region,territories,owner\n\
               华东星辰,indirect,agent,key,active,华东,上海;杭州,王经理\n\
               西南直销,direct,sales_team,,,西南,,\n";
    let done = run(&app, csv, &options(Kind::Partners, 1)).unwrap();
    assert_eq!(done.result, ImportResult { created: 2, updated: 0 });
    let p = &named(&app, "华东星辰").await;
    assert_eq!(
        (p["tier"].as_str(), p["status"].as_str(), p["region"].as_str()),
        (Some("key"), Some("active"), Some("华东"))
    );
    assert_eq!(p["territories"], serde_json::json!(["上海", "杭州"]));
    assert!(p["activated_at"].is_string(), "an active partner counts as activated");
    let by_territory = app.get("/api/v1/partners?territory=%E6%9D%AD%E5%B7%9E").send().await;
    assert_eq!(by_territory.items().len(), 1, "territories are indexed as POST /partners does");
    let other = named(&app, "西南直销").await;
    assert_eq!((other["tier"].as_str(), other["status"].as_str()), (Some("standard"), Some("prospect")));
    assert_eq!(app.event_types().iter().filter(|t| *t == "partner.created").count(), 2);

    // Bad rows: a taken name (any case), a kind of the other channel type, a status that is no status,
    // the same name twice in the file.
    let bad = "name,channel_type,kind,status\n\
               华东星辰,indirect,agent,\n\
               新伙伴,direct,agent,\n\
               另一个,indirect,reseller,sleeping\n\
               重复,indirect,agent,\n\
               重复,indirect,agent,\n";
    let failure = run(&app, bad, &options(Kind::Partners, 100)).unwrap_err();
    let want = [(1, "name"), (2, "kind"), (3, "status"), (5, "name")];
    assert_eq!(at(&failure), want.map(|(r, f)| (r, f.to_string())), "{:?}", failure.errors);
    assert_eq!(app.get("/api/v1/partners").send().await.items().len(), 2, "nothing of the bad chunk written");

    // Upsert: the named partner is updated with the row's cells (others kept); a status move
    // outside the lifecycle is a bad row.
    let upsert = FileOptions { mode: ImportMode::Upsert, ..options(Kind::Partners, 100) };
    let done = run(
        &app,
        "name,channel_type,kind,tier\n华东星辰,indirect,agent,strategic\n新伙伴,indirect,distributor,\n",
        &upsert,
    )
    .unwrap();
    assert_eq!(done.result, ImportResult { created: 1, updated: 1 });
    let found = named(&app, "华东星辰").await;
    assert_eq!((found["tier"].as_str(), found["owner"].as_str()), (Some("strategic"), Some("王经理")));
    let moved = run(&app, "name,status\n西南直销,suspended\n", &upsert).unwrap_err();
    assert_eq!(at(&moved), [(1, "status".into())]);
});
