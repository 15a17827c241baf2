//! `chat-server`: gateway, projector and api in one process. Configuration from the
//! environment (see the README's configuration table).

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let telemetry = chat_core::telemetry::init("chat-server");
    chat_core::metrics::install();
    let config = chat_server::ServerConfig::from_env()?;
    let app = chat_server::Application::build(config).await?;
    let result = app.run_until_stopped(chat_core::shutdown::signal()).await;
    telemetry.shutdown();
    result
}
