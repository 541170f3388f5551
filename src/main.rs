//! The binary: parses the command line and hands off to the library. No logic lives here, so
//! every command is testable through the library.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};

use channeldesk::access::Actor;
use channeldesk::access::Role;
use channeldesk::api_keys::model::ApiKeyCreate;
use channeldesk::config::Config;
use channeldesk::db::Db;
use channeldesk::performance::import::{ImportMode, Kind};
use channeldesk::performance::import_file::{self, FileFailure, FileOptions, Progress, DEFAULT_CHUNK_ROWS};
use channeldesk::secrets::SecretKey;

/// channeldesk: channel management for key-account marketing.
///
/// Configuration comes from the environment (DATABASE_URL, CHANNELDESK_BIND,
/// CHANNELDESK_LOG_FORMAT, CHANNELDESK_POOL_SIZE, CHANNELDESK_BODY_LIMIT_BYTES, ...; see README).
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply migrations and serve the HTTP API (default 127.0.0.1:8080).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage API keys.
    #[command(subcommand, name = "api-key")]
    ApiKey(ApiKeyCommand),
    /// Print the OpenAPI document (JSON).
    Openapi,
    /// Manage the key that stored robot URLs and robot / webhook secrets are encrypted under.
    #[command(subcommand, name = "secret-key")]
    SecretKey(SecretKeyCommand),
    /// Fill the configured database with a realistic demo partner network (about 200 partners
    /// with a year of performance, contracts, meetings, bulletins …) and print an admin key
    /// (alone on the last line of stdout). A second run changes nothing.
    #[command(name = "demo-data")]
    DemoData,
    /// Import a CSV file of any size (a header row with the field names; see README), in chunks
    /// of one transaction each. A bad chunk stops the import, names its bad rows and prints the
    /// --skip that resumes after the rows already written.
    Import {
        /// performance | costs | partners
        #[arg(value_parser = parse_kind)]
        kind: Kind,
        /// The CSV file (UTF-8; a BOM is fine).
        file: PathBuf,
        /// Check every row and write nothing.
        #[arg(long = "dry-run")]
        dry_run: bool,
        /// insert: every row is new; upsert: a row for an existing record replaces it.
        #[arg(long, default_value = "insert", value_parser = parse_mode)]
        mode: ImportMode,
        /// Rows per chunk (one transaction each).
        #[arg(long = "chunk-rows", default_value_t = DEFAULT_CHUNK_ROWS as u64, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
        chunk_rows: u64,
        /// Pass over the first N data rows (written by an earlier run that stopped).
        #[arg(long, default_value_t = 0)]
        skip: u64,
    },
}

#[derive(Subcommand)]
enum SecretKeyCommand {
    /// Re-encrypt every stored secret under a new key, in one transaction. The current key is
    /// CHANNELDESK_SECRET_KEY or the key file; the new one is --new-key or a new random key. A key
    /// file is replaced by the new key; a key from CHANNELDESK_SECRET_KEY is printed (last line
    /// of stdout) for you to set instead. Restart the service afterwards.
    Rotate {
        /// The new key: base64 of 32 bytes (e.g. `openssl rand -base64 32`).
        #[arg(long = "new-key")]
        new_key: Option<String>,
    },
}

#[derive(Subcommand)]
enum ApiKeyCommand {
    /// Create a key. The key is printed alone on the last line of stdout, and only this once.
    Create {
        /// admin | manager | viewer | partner
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Who or what uses the key, e.g. crm-frontend.
        #[arg(long)]
        name: String,
        /// The partner a `partner` key is bound to.
        #[arg(long = "partner")]
        partner: Option<String>,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
}

fn parse_kind(s: &str) -> Result<Kind, String> {
    match s {
        "performance" => Ok(Kind::Performance),
        "costs" => Ok(Kind::Costs),
        "partners" => Ok(Kind::Partners),
        _ => Err("one of performance, costs, partners".into()),
    }
}

fn parse_mode(s: &str) -> Result<ImportMode, String> {
    s.parse()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> Result<(), String> {
    if let Command::Openapi = command {
        println!("{}", channeldesk::app::spec_json());
        return Ok(());
    }
    let mut config = Config::from_env()?;
    channeldesk::telemetry::init(config.log_format);
    match command {
        Command::Serve => serve(config),
        Command::Migrate => {
            let db = Db::connect(&config.database_url, 1)?;
            let applied = channeldesk::app::migrate(&db, &mut config)?;
            println!("migrations applied: {applied}");
            Ok(())
        }
        Command::ApiKey(ApiKeyCommand::Create { role, name, partner }) => {
            let db = Db::connect(&config.database_url, 1)?;
            channeldesk::app::migrate(&db, &mut config)?;
            let input = ApiKeyCreate { name, role, partner_id: partner };
            input.validate().map_err(|e| e.to_string())?;
            let actor = Actor::system("cli");
            let created = db
                .write_blocking(|conn| channeldesk::api_keys::store::create(conn, &actor, &input))
                .map_err(|e| e.to_string())?;
            println!("created {} key {:?} (id {})", created.key.role, created.key.name, created.key.id);
            println!("store it now; it is not shown again:");
            println!("{}", created.secret);
            Ok(())
        }
        Command::SecretKey(SecretKeyCommand::Rotate { new_key }) => rotate_secret_key(config, new_key),
        Command::DemoData => demo_data(config),
        Command::Import { kind, file, dry_run, mode, chunk_rows, skip } => {
            let options = FileOptions { kind, mode, dry_run, chunk_rows: chunk_rows as usize, skip };
            import(config, &file, &options)
        }
        Command::Openapi => Ok(()),
    }
}

fn demo_data(mut config: Config) -> Result<(), String> {
    let db = Db::connect(&config.database_url, 1)?;
    channeldesk::app::migrate(&db, &mut config)?;
    eprintln!("loading the demo data (one transaction; about a minute on SQLite) …");
    match channeldesk::demo::load(&db, chrono::Utc::now())? {
        None => {
            println!("the demo data is already loaded: nothing changed");
            println!("(its admin key was printed the first time; make another with `channeldesk api-key create`)");
        }
        Some(l) => {
            println!(
                "loaded {} partners, {} key accounts, {} performance and {} cost records, {} targets, {} meetings, \
                 {} bulletins, {} contracts, {} competitors, {} recruitment campaigns",
                l.partners,
                l.key_accounts,
                l.performance_records,
                l.cost_records,
                l.targets,
                l.meetings,
                l.bulletins,
                l.contracts,
                l.competitors,
                l.campaigns
            );
            println!("admin key (store it now; it is not shown again):");
            println!("{}", l.admin_key);
        }
    }
    Ok(())
}

fn rotate_secret_key(mut config: Config, new_key: Option<String>) -> Result<(), String> {
    let given = new_key.is_some();
    let new_key = new_key.map(|k| SecretKey::from_base64(&k).map_err(|e| format!("--new-key {e}"))).transpose()?;
    let from_env = config.notify.secret_key.is_some();
    let db = Db::connect(&config.database_url, 1)?;
    channeldesk::app::migrate(&db, &mut config)?;
    let done = channeldesk::notify::secrets::rotate_key(&db, &config.notify, &config.database_url, from_env, new_key)?;
    println!("re-encrypted {} stored secrets under the new key", done.count);
    match &done.key_file {
        Some(file) => println!("the new key is in {}; restart the service", file.display()),
        None if given => println!("set CHANNELDESK_SECRET_KEY to the new key on every replica and restart"),
        None => {
            println!("set CHANNELDESK_SECRET_KEY to this new key on every replica and restart:");
            println!("{}", done.new_key.to_base64());
        }
    }
    Ok(())
}

fn import(mut config: Config, file: &std::path::Path, options: &FileOptions) -> Result<(), String> {
    let input = std::fs::File::open(file).map_err(|e| format!("cannot open {}: {e}", file.display()))?;
    let size = input.metadata().map(|m| m.len()).unwrap_or(0);
    let db = Db::connect(&config.database_url, 1)?;
    channeldesk::app::migrate(&db, &mut config)?;
    let bar = progress_bar(size);
    let started = Instant::now();
    let mut on_progress = |p: Progress| {
        let secs = started.elapsed().as_secs_f64().max(0.001);
        bar.set_position(p.bytes);
        bar.set_message(format!("{} rows, {:.0} rows/s", p.rows, p.rows as f64 / secs));
    };
    let actor = Actor::system("cli-import");
    let reader = std::io::BufReader::with_capacity(1 << 20, input);
    let outcome = import_file::import_file(&db, &actor, reader, options, &mut on_progress);
    bar.finish_and_clear();
    let what = options.kind.name();
    let verb = if options.dry_run { "would be" } else { "were" };
    match outcome {
        Ok(done) => {
            let skipped = if done.skipped > 0 { format!(" after skipping {}", done.skipped) } else { String::new() };
            println!(
                "{what}: {} rows read{skipped}; {} {verb} created, {} {verb} updated ({} chunks, {:.1} s)",
                done.rows,
                done.result.created,
                done.result.updated,
                done.chunks,
                started.elapsed().as_secs_f64()
            );
            if options.dry_run {
                println!("dry run: nothing was written");
            }
            Ok(())
        }
        Err(failure) => Err(failure_report(file, options, &failure)),
    }
}

/// The report of a failed import: the bad rows, what stayed written and how to resume.
fn failure_report(file: &std::path::Path, options: &FileOptions, failure: &FileFailure) -> String {
    let mut lines = Vec::new();
    for e in &failure.errors {
        match e.row {
            Some(0) => lines.push(format!("  header: {}: {}", e.field, e.message)),
            Some(row) => lines.push(format!("  row {row}: {}: {}", e.field, e.message)),
            None => lines.push(format!("  {}: {}", e.field, e.message)),
        }
    }
    let shown = failure.errors.len() as u64;
    if failure.error_count > shown {
        lines.push(format!("  … and {} more", failure.error_count - shown));
    }
    let done = &failure.done;
    let head = if options.dry_run {
        format!("dry run found {} bad rows or fields (rows are numbered from 1, the first line after the header); nothing was written", failure.error_count)
    } else {
        "the import stopped at a bad chunk (rows are numbered from 1, the first line after the header); that chunk was not written".to_string()
    };
    let mut out = vec![head];
    out.extend(lines);
    if let Some(skip) = failure.resume_skip {
        out.push(format!(
            "written before it: {} rows in {} chunks ({} created, {} updated)",
            done.rows, done.chunks, done.result.created, done.result.updated
        ));
        let mode = options.mode;
        let kind = options.kind.name();
        out.push(format!(
            "fix those rows and resume after the rows already written with:\n  channeldesk import {kind} {} --mode {mode} --skip {skip}",
            file.display()
        ));
    }
    out.join("\n")
}

/// A bar over the file's bytes with rows and rows/s; hidden when stderr is not a terminal.
fn progress_bar(size: u64) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(Some(size), indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:30} {percent:>3}% {msg} · {elapsed_precise} elapsed, ETA {eta}")
    {
        bar.set_style(style);
    }
    bar
}

fn serve(config: Config) -> Result<(), String> {
    let runtime = actix_web::rt::System::new();
    runtime.block_on(async move {
        let host = config.bind.rsplit_once(':').map(|(h, _)| h.to_string()).unwrap_or_default();
        let backend = format!("{:?}", config.database_url.backend()).to_lowercase();
        let app = channeldesk::Application::build(config)?;
        let base = format!("http://{host}:{}", app.port());
        tracing::info!(address = %base, swagger_ui = %format!("{base}/swagger-ui/"), database = %backend, "channeldesk is listening");
        app.run_until_stopped().await.map_err(|e| e.to_string())
    })
}
