//! `chat`: the terminal client. Everything but flag parsing and the exit code lives in the
//! library (see `lib.rs` for the output format).

use clap::Parser;
use std::process::ExitCode;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = chat_client::Args::parse();
    match chat_client::run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("chat: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
