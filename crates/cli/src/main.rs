//! `feather-integrations`: the service binary.

mod admin;
mod cli;
mod serve;

use clap::Parser;

use crate::cli::{Cli, Command};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    cli.logging.install();
    match cli.command {
        Command::Serve(args) => serve::run(&cli.store, args).await,
        Command::Migrate => {
            cli.store.open().await?;
            println!("Migrations applied.");
            Ok(())
        }
        Command::Orgs(command) => admin::orgs(&cli.store, command).await,
        Command::ApiKeys(command) => admin::api_keys(&cli.store, command).await,
    }
}
