//! `chat-load`: the load generator. See `docs/BENCHMARKS.md` for the scenarios `ops/bench`
//! runs with it, and `chat-load run --help` for every knob.
//!
//! A run is one coordinator process and several worker processes (one process holds at
//! most ~19.9k sockets here), each opening its clients from several `127.0.0.x` source
//! addresses. Every message carries its step, sender, number and scheduled send time, so
//! receivers count lost and duplicated deliveries and the end-to-end latency exactly.

mod backlog;
mod cli;
mod conn;
mod coordinator;
mod hostile;
mod http_load;
mod net;
mod plan;
mod protocol;
mod report;
mod rss;
mod setup;
mod stats;
mod worker;

use clap::Parser;
use cli::{Cli, CliCommand};
use std::io::Write;
use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match cli.command {
            CliCommand::Worker => worker::run().await,
            CliCommand::Run(args) => {
                let (json, md) = (args.json.clone(), args.markdown.clone());
                let result = coordinator::run(args).await?;
                publish(&result, &result.markdown(), json, md)
            }
            CliCommand::Backlog(args) => {
                let (json, md) = (args.json.clone(), args.markdown.clone());
                let result = backlog::run(args).await?;
                publish(&result, &result.markdown(), json, md)
            }
            CliCommand::Hostile(args) => {
                let (json, md) = (args.json.clone(), args.markdown.clone());
                let result = hostile::run(args).await?;
                publish(&result, &result.markdown(), json, md)?;
                if !result.passed() {
                    anyhow::bail!("memory did not come back after the hostile phase");
                }
                Ok(())
            }
        }
    })
}

/// Prints the markdown, writes the JSON to `json` and appends the markdown to `md`.
fn publish(
    result: &impl serde::Serialize,
    markdown: &str,
    json: Option<PathBuf>,
    md: Option<PathBuf>,
) -> anyhow::Result<()> {
    println!("{markdown}");
    if let Some(path) = json {
        std::fs::write(path, serde_json::to_vec_pretty(result)?)?;
    }
    if let Some(path) = md {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        file.write_all(markdown.as_bytes())?;
    }
    Ok(())
}
