//! The binary: parses the command line and hands off to the library. No logic lives here, so
//! every command is testable through the library.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use channeldesk::access::Actor;
use channeldesk::access::Role;
use channeldesk::api_keys::model::ApiKeyCreate;
use channeldesk::config::Config;
use channeldesk::db::Db;

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
    let config = Config::from_env()?;
    channeldesk::telemetry::init(config.log_format);
    match command {
        Command::Serve => serve(config),
        Command::Migrate => {
            let db = Db::connect(&config.database_url, 1)?;
            let applied = channeldesk::app::migrate(&db)?;
            println!("migrations applied: {applied}");
            Ok(())
        }
        Command::ApiKey(ApiKeyCommand::Create { role, name, partner }) => {
            let db = Db::connect(&config.database_url, 1)?;
            channeldesk::app::migrate(&db)?;
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
        Command::Openapi => Ok(()),
    }
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
