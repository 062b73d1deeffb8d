//! `feather-integrations`: the service binary.

mod admin;
mod app;
mod cli;
mod demo;
mod secret_key;
mod secrets;
mod serve;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // The cause chain on one line, without a backtrace: this is for an operator.
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    cli.logging.install();
    match cli.command {
        Command::Serve(args) => serve::run(&cli.store, &cli.upstream, args).await,
        Command::Demo(args) => demo::run(&cli.store, &cli.upstream, args).await,
        Command::Migrate => {
            cli.store.open().await?;
            println!("Migrations applied.");
            Ok(())
        }
        Command::Orgs(command) => admin::orgs(&cli.store, command).await,
        Command::ApiKeys(command) => admin::api_keys(&cli.store, command).await,
        Command::Secrets(command) => secrets::run(&cli.store, &cli.upstream, command).await,
    }
}
